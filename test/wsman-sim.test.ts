import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Transport } from '../connector/transport.ts';
import {
  createWsmanTransport,
  resultStateForError,
  WsmanAuthError,
  WsmanProtocolError,
  WsmanUnreachableError,
} from '../connector/wsman/index.ts';
import { type Fleet, startFleet } from '../sim/index.ts';

// The client against the simulated fleet (sim/ is written independently of connector/wsman).
const auth = { type: 'basic', user: 'winfleet', password: 'winfleet' } as const;
let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({
    devices: [
      { computerName: 'WS-OK' },
      { computerName: 'WS-SPARE' },
      { computerName: 'WS-DOWN', faults: { unreachable: true } },
      { computerName: 'WS-GARBLED', faults: { malformedXml: true } },
    ],
    subnet: '127.15.0.0/16',
    maxCommandsPerShell: 3,
  });
});

afterAll(async () => {
  await fleet?.close();
});

function device(name: string) {
  const found = fleet.devices.find((d) => d.computerName === name);
  if (!found) throw new Error(`no simulated device ${name}`);
  return {
    deviceId: name.toLowerCase(),
    computerName: name,
    address: found.address,
    port: found.port,
  };
}

async function withTransport<T>(fn: (t: Transport) => Promise<T>, options = {}): Promise<T> {
  const transport = createWsmanTransport({ auth, ...options });
  try {
    return await fn(transport);
  } finally {
    await transport.close();
  }
}

describe('wsman transport against the simulated fleet', () => {
  it('runs a script and returns its exact output and exit code', async () => {
    const outcome = await withTransport((t) =>
      t.run(device('WS-OK'), 'Write-Output "héllo — 日本 🚀"\nexit 3', { timeoutMs: 20_000 }),
    );

    expect(outcome).toMatchObject({
      state: 'Completed',
      exitCode: 3,
      stdout: 'héllo — 日本 🚀\r\n',
    });
  });

  it('runs a script too long for the command line, sent over stdin in several Sends', async () => {
    const lines = Array.from(
      { length: 120 },
      (_, i) => `line ${i}: it's "quoted" — ünïcödé 日本語 🚀 $notAVariable \`backtick`,
    );
    const script = lines.map((line) => `Write-Output '${line.replace(/'/g, "''")}'`).join('\n');
    expect(script.length).toBeGreaterThan(9_000);
    fleet.resetStats();

    const outcome = await withTransport(
      (t) => t.run(device('WS-SPARE'), `${script}\nexit 4`, { timeoutMs: 20_000 }),
      { maxEnvelopeBytes: 8 * 1024 },
    );

    expect(outcome).toMatchObject({ state: 'Completed', exitCode: 4, stderr: '' });
    expect(outcome.stdout).toBe(lines.map((line) => `${line}\r\n`).join(''));
    expect(fleet.stats.requestsByAction.get('Send')).toBeGreaterThanOrEqual(3);
  });

  it('decodes Write-Error into the error text', async () => {
    const outcome = await withTransport((t) =>
      t.run(device('WS-OK'), "Write-Error 'disk on fire'", { timeoutMs: 20_000 }),
    );

    expect(outcome.stderr).toContain('disk on fire');
    expect(outcome.stderr).not.toContain('CLIXML');
  });

  it('keeps receiving through w:TimedOut answers of a silent command', async () => {
    const outcome = await withTransport(
      (t) =>
        t.run(device('WS-OK'), "Start-Sleep -Seconds 2\nWrite-Output 'late'", {
          timeoutMs: 20_000,
        }),
      { operationTimeoutSeconds: 1 },
    );

    expect(outcome).toMatchObject({ state: 'Completed', stdout: 'late\r\n', exitCode: 0 });
  });

  it('ends a command at the deadline as TimedOut and leaves no shell open', async () => {
    const outcome = await withTransport(
      (t) =>
        t.run(device('WS-SPARE'), "Write-Output 'before'\nStart-Sleep -Seconds 30", {
          timeoutMs: 1_500,
        }),
      { operationTimeoutSeconds: 1 },
    );

    expect(outcome).toMatchObject({ state: 'TimedOut', exitCode: undefined, stdout: 'before\r\n' });
    expect(fleet.stats.shellsOpen).toBe(0);
  });

  it('recovers from the operation quota when the host allows fewer commands per shell', async () => {
    const outcomes = await withTransport(
      async (t) => {
        const results = [];
        for (let i = 0; i < 7; i++)
          results.push(await t.run(device('WS-OK'), `exit ${i}`, { timeoutMs: 20_000 }));
        return results;
      },
      { maxCommandsPerShell: 50 },
    );

    expect(outcomes.map((o) => o.exitCode)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('raises WsmanAuthError for wrong credentials', async () => {
    const error = await withTransport(
      (t) => t.run(device('WS-OK'), 'exit 0', { timeoutMs: 20_000 }),
      {
        auth: { type: 'basic', user: 'winfleet', password: 'nope' },
      },
    ).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(WsmanAuthError);
  });

  it('reports an unreachable device as Unreachable', async () => {
    const error = await withTransport((t) =>
      t.run(device('WS-DOWN'), 'exit 0', { timeoutMs: 20_000 }),
    ).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(WsmanUnreachableError);
    expect(resultStateForError(error)).toBe('Unreachable');
  });

  it('raises WsmanProtocolError for a malformed answer', async () => {
    const error = await withTransport((t) =>
      t.run(device('WS-GARBLED'), 'exit 0', { timeoutMs: 20_000 }),
    ).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(WsmanProtocolError);
  });
});
