import { describe, expect, it } from 'vitest';
import { STATUS_SCRIPT, StatusOutput } from '../shared/scripts/index.ts';
import { runPowerShell } from './powershell.ts';
import type { ProgramHost } from './program-host.ts';

function host(overrides: Partial<ProgramHost> = {}) {
  const output = { stdout: '', stderr: '', sleptMs: [] as number[] };
  const value: ProgramHost = {
    computerName: 'PC-7',
    userName: 'ops',
    address: '127.0.0.7',
    faults: {},
    serviceStates: new Map(),
    signal: new AbortController().signal,
    out: (text) => {
      output.stdout += text;
    },
    err: (text) => {
      output.stderr += text;
    },
    sleep: async (ms) => {
      output.sleptMs.push(ms);
    },
    readStdin: async () => '',
    ...overrides,
  };
  return { host: value, output };
}

describe('runPowerShell', () => {
  it('writes output, expands double-quoted strings and honours exit', async () => {
    const { host: h, output } = host();
    const script = [
      '# comment',
      "$name = 'world'",
      'Write-Output "hello $name on $env:COMPUTERNAME`t!"',
      "Write-Host 'it''s'; 'bare'",
      '42',
      'exit 7',
      "Write-Output 'unreachable'",
    ].join('\r\n');

    const exitCode = await runPowerShell(script, h);

    expect(output.stdout).toBe("hello world on PC-7\t!\r\nit's\r\nbare\r\n42\r\n");
    expect(exitCode).toBe(7);
  });

  it('sleeps for -Seconds, -Milliseconds and a positional value', async () => {
    const { host: h, output } = host();

    await runPowerShell('Start-Sleep -Seconds 2\nStart-Sleep -Milliseconds 150\nsleep 1', h);

    expect(output.sleptMs).toEqual([2000, 150, 1000]);
  });

  it('stops at a Write-Error once $ErrorActionPreference is Stop', async () => {
    const { host: h, output } = host();

    const exitCode = await runPowerShell(
      "$ErrorActionPreference = 'Stop'\nWrite-Error 'x'\n'after'",
      h,
    );

    expect(exitCode).toBe(1);
    expect(output.stdout).toBe('');
    expect(output.stderr.endsWith('</Objs>')).toBe(true);
  });

  it('escapes CLIXML special characters in error text', async () => {
    const { host: h, output } = host();

    await runPowerShell("throw 'a < b & c_x'", h);

    expect(output.stderr).toContain('<S S="Error">a &lt; b &amp; c_x005F_x_x000D__x000A_</S>');
  });

  it('answers the status script with values that match StatusOutput', async () => {
    const { host: h, output } = host();

    const exitCode = await runPowerShell(STATUS_SCRIPT, h);

    expect(exitCode).toBe(0);
    expect(output.stdout.endsWith('\r\n')).toBe(true);
    expect(StatusOutput.parse(JSON.parse(output.stdout)).computerName).toBe('PC-7');
  });
});
