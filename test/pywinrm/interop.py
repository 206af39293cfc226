"""Runs Debian's pywinrm, unmodified, against one simulated device; prints one JSON document.

Usage: /usr/bin/python3 interop.py ADDRESS USER PASSWORD
Each case's result is reported; an exception in a case is reported as that case's error.
"""
import base64
import json
import sys
from concurrent.futures import ThreadPoolExecutor

import winrm

UNICODE_TEXT = "\"double\" 'single' \u00fcn\u00efc\u00f6d\u00e9 \u65e5\u672c\u8a9e \U0001F469\u200d\U0001F4BB \U0001F389"


def session(address, user, password):
    return winrm.Session(address, auth=(user, password), transport="basic")


def run_ps_exit_code(s):
    r = s.run_ps("Write-Output 'before exit'\nexit 3")
    return {"stdout": r.std_out.decode("ascii"), "exitCode": r.status_code}


def run_ps_error(s):
    # pywinrm 0.3.0's run_ps crashes on any stderr under Python 3 (it calls str.startswith on
    # bytes), so run_ps's steps are taken here and its own CLIXML cleaner is given text.
    protocol = s.protocol
    shell_id = protocol.open_shell()
    encoded = base64.b64encode("Write-Error 'it broke'".encode("utf_16_le")).decode("ascii")
    command_id = protocol.run_command(shell_id, "powershell -encodedcommand " + encoded)
    stdout, stderr, code = protocol.get_command_output(shell_id, command_id)
    protocol.cleanup_command(shell_id, command_id)
    protocol.close_shell(shell_id)
    return {"stderr": s._clean_error_msg(stderr.decode("ascii")), "exitCode": code}


def run_ps_cp437(s):
    # Session opens its shells with pywinrm's default code page, 437, as Windows would honour.
    r = s.run_ps("Write-Output '\u00e9'")
    return {"stdoutHex": r.std_out.hex(), "exitCode": r.status_code}


def run_cmd_echo(s):
    r = s.run_cmd("echo", ["hello"])
    return {"stdout": r.std_out.decode("ascii"), "exitCode": r.status_code}


def unicode_utf8(s):
    # run_ps's own steps, through the unmodified Protocol, in a UTF-8 (65001) shell.
    protocol = s.protocol
    shell_id = protocol.open_shell(codepage=65001)
    script = "Write-Output '" + UNICODE_TEXT.replace("'", "''") + "'"
    encoded = base64.b64encode(script.encode("utf_16_le")).decode("ascii")
    command_id = protocol.run_command(shell_id, "powershell -encodedcommand " + encoded)
    stdout, stderr, code = protocol.get_command_output(shell_id, command_id)
    protocol.cleanup_command(shell_id, command_id)
    protocol.close_shell(shell_id)
    return {"stdout": stdout.decode("utf-8"), "expected": UNICODE_TEXT + "\r\n", "exitCode": code}


def silent_longer_than_operation_timeout(s):
    r = s.run_ps("Start-Sleep -Seconds 25\nWrite-Output 'done'")
    return {"stdout": r.std_out.decode("ascii"), "exitCode": r.status_code}


CASES = {
    "runPsExitCode": run_ps_exit_code,
    "runPsError": run_ps_error,
    "runPsCp437": run_ps_cp437,
    "runCmdEcho": run_cmd_echo,
    "unicodeUtf8": unicode_utf8,
    "silentCommand": silent_longer_than_operation_timeout,
}


def run_case(name, address, user, password):
    try:
        return name, {"ok": True, **CASES[name](session(address, user, password))}
    except Exception as error:  # reported per case so the test names what failed
        return name, {"ok": False, "error": "%s: %s" % (type(error).__name__, error)}


def main():
    address, user, password = sys.argv[1:4]
    with ThreadPoolExecutor(max_workers=len(CASES)) as pool:
        futures = [pool.submit(run_case, name, address, user, password) for name in CASES]
        results = dict(future.result() for future in futures)
    print(json.dumps({"winrmFile": winrm.__file__, "results": results}))


if __name__ == "__main__":
    main()
