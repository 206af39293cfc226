import { describe, expect, it } from 'vitest';
import type { DeviceTarget } from '../../shared/schemas/device.ts';
import { createPowerShellTransport, PowerShellUnavailableError } from './index.ts';
import type { InvocationOutput } from './output.ts';
import type { PowerShellProcess } from './process.ts';
import { RESULT_MARKER } from './script.ts';

// A stand-in for the local pwsh process (none can run here): it reads the script back out of
// the generated command and answers with the envelope the real command prints.
interface Recorder {
  commands: Array<{ process: number; command: string }>;
  disposed: number[];
  running: number;
  maxRunning: number;
}

type Answer = (script: string) => Promise<InvocationOutput> | InvocationOutput;

function fakeProcesses(answer: Answer) {
  const recorder: Recorder = { commands: [], disposed: [], running: 0, maxRunning: 0 };
  let next = 0;
  const factory = (): PowerShellProcess => {
    const id = ++next;
    return {
      async invoke(command) {
        recorder.commands.push({ process: id, command });
        const script = scriptOf(command);
        if (script === undefined) return { stdout: '', stderr: '' };
        recorder.running++;
        recorder.maxRunning = Math.max(recorder.maxRunning, recorder.running);
        try {
          return await answer(script);
        } finally {
          recorder.running--;
        }
      },
      async dispose() {
        recorder.disposed.push(id);
      },
    };
  };
  return { factory, recorder };
}

function scriptOf(command: string): string | undefined {
  const base64 =
    /-ArgumentList \(\[Text\.Encoding\]::UTF8\.GetString\(\[Convert\]::FromBase64String\('([^']*)'\)\)\)/.exec(
      command,
    )?.[1];
  return base64 === undefined ? undefined : Buffer.from(base64, 'base64').toString('utf8');
}

function ok(stdout: string, exitCode = 0): InvocationOutput {
  return {
    stdout: `${RESULT_MARKER}${JSON.stringify({ ok: true, stdout, stderr: '', exitCode })}\r\n`,
    stderr: '',
  };
}

const auth = { type: 'basic', user: 'ops', password: 's3cret' } as const;
const device = (n: number): DeviceTarget => ({
  deviceId: `ws${n}`,
  computerName: `WS${n}`,
  address: `10.1.0.${n}`,
  port: 5985,
});

describe('powershell transport', () => {
  it('runs the script in a PSSession and returns its outcome', async () => {
    const { factory, recorder } = fakeProcesses((script) => ok(`ran: ${script}\r\n`, 4));
    const transport = createPowerShellTransport({ auth }, factory);

    const outcome = await transport.run(device(1), "Write-Output 'ü 🚀'", { timeoutMs: 5_000 });
    await transport.close();

    expect(outcome).toEqual({
      state: 'Completed',
      exitCode: 4,
      stdout: "ran: Write-Output 'ü 🚀'\r\n",
      stderr: '',
    });
    expect(recorder.commands[0]?.command).toContain("-ComputerName '10.1.0.1' -Port 5985");
    expect(recorder.commands[0]?.command).not.toContain('s3cret');
    expect(recorder.commands.at(-1)?.command).toContain('Remove-PSSession');
    expect(recorder.disposed).toEqual([1]);
  });

  it('runs at most throttleLimit invocations at once and at most two sessions per device', async () => {
    const { factory, recorder } = fakeProcesses(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return ok('');
    });
    const transport = createPowerShellTransport({ auth, throttleLimit: 3 }, factory);

    const runs = [1, 1, 1, 1, 2, 2, 3, 1].map((n) =>
      transport.run(device(n), 'x', { timeoutMs: 5_000 }),
    );
    await Promise.all(runs);

    expect(recorder.maxRunning).toBeLessThanOrEqual(3);
    const processesFor = (address: string) =>
      new Set(
        recorder.commands.filter((c) => c.command.includes(`'${address}'`)).map((c) => c.process),
      );
    expect(processesFor('10.1.0.1').size).toBeLessThanOrEqual(2);
    await transport.close();
  });

  it('closes the least recently used session when a process holds too many', async () => {
    const { factory, recorder } = fakeProcesses(() => ok(''));
    const transport = createPowerShellTransport(
      { auth, throttleLimit: 1, maxSessionsPerWorker: 2 },
      factory,
    );

    for (const n of [1, 2, 3]) await transport.run(device(n), 'x', { timeoutMs: 5_000 });
    await transport.close();

    expect(recorder.commands[2]?.command).toContain(
      "$global:winfleetSessions.Remove('10.1.0.1:5985')",
    );
  });

  it('ends the process at the deadline and reports TimedOut', async () => {
    const { factory, recorder } = fakeProcesses(
      () => new Promise<InvocationOutput>(() => undefined),
    );
    const transport = createPowerShellTransport({ auth }, factory);

    const outcome = await transport.run(device(1), 'Start-Sleep 60', { timeoutMs: 50 });

    expect(outcome).toEqual({ state: 'TimedOut', exitCode: undefined, stdout: '', stderr: '' });
    expect(recorder.disposed).toEqual([1]);
    await transport.close();
  });

  it('rejects with the caller abort reason', async () => {
    const { factory } = fakeProcesses(() => new Promise<InvocationOutput>(() => undefined));
    const transport = createPowerShellTransport({ auth }, factory);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('operation cancelled')), 20);

    const run = transport.run(device(1), 'x', { timeoutMs: 5_000, signal: controller.signal });

    await expect(run).rejects.toThrow('operation cancelled');
    await transport.close();
  });

  it('reports a remoting failure with its kind, so the runner can call the device unreachable', async () => {
    const { factory } = fakeProcesses(() => ({
      stdout: `${RESULT_MARKER}${JSON.stringify({ ok: false, error: { type: 'System.Management.Automation.Remoting.PSRemotingTransportException', message: 'Connecting to remote server failed', errorCode: -2144108250 } })}`,
      stderr: '',
    }));
    const transport = createPowerShellTransport({ auth }, factory);

    const run = transport.run(device(1), 'x', { timeoutMs: 5_000 });

    await expect(run).rejects.toMatchObject({ kind: 'unreachable', deviceId: 'ws1' });
    await transport.close();
  });

  it('says clearly when no PowerShell executable exists on the connector host', async () => {
    const transport = createPowerShellTransport({ auth, executable: 'winfleet-no-such-pwsh' });

    const run = transport.run(device(1), 'x', { timeoutMs: 5_000 });

    await expect(run).rejects.toBeInstanceOf(PowerShellUnavailableError);
    await transport.close();
  });
});
