import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAULT_CODE } from '../shared/wsman.ts';
import { type Fleet, startFleet } from '../sim/index.ts';

// Debian's python3-winrm is importable only by the system interpreter, not the python3 on PATH.
// WINFLEET_PYWINRM_PYTHON exists only to check that this test fails, never skips, with an
// interpreter that lacks winrm: `WINFLEET_PYWINRM_PYTHON=python3 npx vitest run THIS_FILE`.
const PYTHON = process.env.WINFLEET_PYWINRM_PYTHON ?? '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./pywinrm/interop.py', import.meta.url));

let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({
    devices: 1,
    subnet: '127.14.0.0/16',
    user: 'ops',
    password: 'pä$$ word',
  });
});
afterAll(() => fleet.close());

interface CaseResult {
  ok: boolean;
  error?: string;
  stdout?: string;
  stderr?: string;
  stdoutHex?: string;
  expected?: string;
  exitCode?: number;
}

/** Fails with a clear message when the interpreter cannot import winrm (CI installs it). */
async function requireWinrm(): Promise<void> {
  try {
    await promisify(execFile)(PYTHON, ['-c', 'import winrm']);
  } catch (error) {
    throw new Error(
      `pywinrm is not importable by ${PYTHON}: install python3-winrm (.ci/run does)`,
      { cause: error },
    );
  }
}

async function runPywinrm(address: string): Promise<Record<string, CaseResult>> {
  const { stdout } = await promisify(execFile)(PYTHON, [SCRIPT, address, 'ops', 'pä$$ word'], {
    timeout: 90_000,
  });
  const parsed = JSON.parse(stdout) as { results: Record<string, CaseResult> };
  return parsed.results;
}

describe('pywinrm against the simulated fleet', () => {
  it('runs run_ps and run_cmd, unmodified, including a command silent past OperationTimeout', {
    timeout: 120_000,
  }, async () => {
    const address = fleet.devices[0]?.address ?? '';

    // Fails (never skips) when the interpreter cannot import winrm.
    await requireWinrm();
    const results = await runPywinrm(address);

    for (const [name, result] of Object.entries(results)) {
      expect({ name, ok: result.ok, error: result.error }).toEqual({
        name,
        ok: true,
        error: undefined,
      });
    }
    expect(results.runPsExitCode).toMatchObject({ stdout: 'before exit\r\n', exitCode: 3 });
    expect(results.runPsError?.exitCode).toBe(1);
    expect(results.runPsError?.stderr).toMatch(/^Write-Error 'it broke' : it broke\n/);
    expect(results.runPsCp437).toMatchObject({ stdoutHex: '820d0a', exitCode: 0 });
    expect(results.runCmdEcho).toMatchObject({ stdout: 'hello\r\n', exitCode: 0 });
    expect(results.unicodeUtf8?.stdout).toBe(results.unicodeUtf8?.expected);
    expect(results.silentCommand).toMatchObject({ stdout: 'done\r\n', exitCode: 0 });
    expect(fleet.stats).toMatchObject({ activeCommands: 0, shellsOpen: 0, commandsRun: 6 });
    // pywinrm saw at least one w:TimedOut and sent Receive again.
    expect(fleet.stats.faultsByCode.get(FAULT_CODE.operationTimeout)).toBeGreaterThanOrEqual(1);
  });
});
