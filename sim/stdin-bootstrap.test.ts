import { describe, expect, it } from 'vitest';
import type { ProgramHost } from './program-host.ts';
import { runStdinBootstrap } from './stdin-bootstrap.ts';

function host(stdin: string) {
  const output = { stdout: '', stderr: '' };
  const value: ProgramHost = {
    computerName: 'PC-9',
    userName: 'ops',
    address: '127.0.0.9',
    faults: {},
    serviceStates: new Map(),
    signal: new AbortController().signal,
    out: (text) => {
      output.stdout += text;
    },
    err: (text) => {
      output.stderr += text;
    },
    sleep: async () => undefined,
    readStdin: async () => stdin,
  };
  return { host: value, output };
}

/** base64 of the UTF-8 script, cut into CRLF-terminated lines as a client would send it. */
function base64Lines(script: string, width: number): string {
  const base64 = Buffer.from(script, 'utf8').toString('base64');
  const lines = base64.match(new RegExp(`.{1,${width}}`, 'g')) ?? [];
  return `${lines.join('\r\n')}\r\n`;
}

const DECODING_BOOTSTRAP = [
  "$s = ($input | Out-String) -replace '\\s', ''",
  '$s = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($s))',
  '& ([ScriptBlock]::Create($s))',
].join('\n');

describe('runStdinBootstrap', () => {
  it('decodes base64 UTF-8 lines from $input and runs the script with its exit code', async () => {
    const script = `Write-Output "it's ✓ 🚀"\nexit 5`;
    const { host: h, output } = host(base64Lines(script, 7));

    const exitCode = await runStdinBootstrap(DECODING_BOOTSTRAP, h);

    expect(output).toEqual({ stdout: "it's ✓ 🚀\r\n", stderr: '' });
    expect(exitCode).toBe(5);
  });

  it('runs stdin as it is when the bootstrap pipes it to Invoke-Expression', async () => {
    const { host: h, output } = host("Write-Output 'plain'\n");

    const exitCode = await runStdinBootstrap('[Console]::In.ReadToEnd() | Invoke-Expression', h);

    expect(output.stdout).toBe('plain\r\n');
    expect(exitCode).toBe(0);
  });

  it('fails like FromBase64String when stdin is not base64', async () => {
    const { host: h, output } = host("Write-Output 'not base64'\n");

    const exitCode = await runStdinBootstrap(DECODING_BOOTSTRAP, h);

    expect(output.stdout).toBe('');
    expect(output.stderr).toContain('FromBase64String');
    expect(exitCode).toBe(1);
  });

  it('reports a bootstrap statement it cannot evaluate instead of guessing', async () => {
    const { host: h, output } = host('');

    const exitCode = await runStdinBootstrap('$x = Get-Content stdin.txt\n& $x', h);

    expect(output.stderr).toContain('cannot evaluate');
    expect(exitCode).toBe(1);
  });
});
