"""Runs one PowerShell script on every device of a fleet CSV with Debian's pywinrm.

Usage: /usr/bin/python3 pywinrm-sweep.py FLEET_CSV SCRIPT_FILE USER PASSWORD THREADS
Each device gets its own winrm.Session and the steps of Session.run_ps (open_shell,
run_command, get_command_output, cleanup_command, close_shell) in a ThreadPoolExecutor.
Prints one JSON document: seconds, CPU seconds, device counts by outcome, exchanges by action.
"""
import base64
import csv
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import winrm
from winrm.protocol import Protocol

EXCHANGES = {}
LOCK = threading.Lock()
original_send_message = Protocol.send_message


def counting_send_message(self, message):
    # Every WS-Management exchange goes through send_message; count it by its action.
    text = message if isinstance(message, str) else message.decode("utf-8", "replace")
    start = text.find("Action")
    action = text[start:start + 200].split("<")[0].rstrip("/").rsplit("/", 1)[-1]
    with LOCK:
        EXCHANGES[action] = EXCHANGES.get(action, 0) + 1
    return original_send_message(self, message)


Protocol.send_message = counting_send_message


def run_status(address, user, password, encoded):
    session = winrm.Session(address, auth=(user, password), transport="basic")
    protocol = session.protocol
    shell_id = protocol.open_shell()
    command_id = protocol.run_command(shell_id, "powershell -encodedcommand " + encoded)
    stdout, _stderr, code = protocol.get_command_output(shell_id, command_id)
    protocol.cleanup_command(shell_id, command_id)
    protocol.close_shell(shell_id)
    if code != 0:
        return "Failed"
    json.loads(stdout.decode("utf-8"))
    return "Success"


def safe_run(address, user, password, encoded):
    try:
        return run_status(address, user, password, encoded)
    except Exception as error:  # noqa: BLE001 - each device's failure is its own result
        return "Error: " + type(error).__name__


def main():
    csv_path, script_path, user, password, threads = sys.argv[1:6]
    with open(csv_path, newline="") as f:
        addresses = [row["address"] for row in csv.DictReader(f)]
    with open(script_path, encoding="utf-8") as f:
        encoded = base64.b64encode(f.read().encode("utf_16_le")).decode("ascii")
    outcomes = {}
    started = time.monotonic()
    cpu_started = time.process_time()
    with ThreadPoolExecutor(int(threads)) as pool:
        for outcome in pool.map(lambda a: safe_run(a, user, password, encoded), addresses):
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    seconds = time.monotonic() - started
    cpu_seconds = time.process_time() - cpu_started
    print(json.dumps({
        "seconds": seconds, "cpuSeconds": cpu_seconds, "outcomes": outcomes, "exchanges": EXCHANGES,
    }))


main()
