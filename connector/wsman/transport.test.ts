import { afterEach, describe, expect, it } from 'vitest';
import { ACTION, FAULT_CODE } from '../../shared/wsman.ts';
import type { Transport } from '../transport.ts';
import { STDIN_BOOTSTRAP } from './command-line.ts';
import { WsmanHttpClient } from './http.ts';
import {
  createWsmanTransport,
  resultStateForError,
  WsmanAuthError,
  WsmanFaultError,
  WsmanProtocolError,
  WsmanTimeoutError,
  type WsmanTransportOptions,
  WsmanUnreachableError,
} from './index.ts';
import {
  cleanupReply,
  type FakeHost,
  type HostHandler,
  reply,
  startFakeHost,
} from './testing/fake-host.ts';

const auth = { type: 'basic', user: 'winfleet', password: 'winfleet' } as const;
let host: FakeHost | undefined;
let transport: Transport | undefined;

afterEach(async () => {
  await transport?.close();
  await host?.close();
  transport = undefined;
  host = undefined;
});

async function setUp(
  handler: HostHandler,
  options: Partial<WsmanTransportOptions> = {},
  address = '127.15.1.1',
) {
  host = await startFakeHost(address, handler);
  transport = createWsmanTransport({ auth, ...options });
  const device = { deviceId: 'ws01', computerName: 'WS01', address, port: host.port };
  return { host, transport, device };
}

/** Create → Command → the given Receive answers in turn; Signal and Delete answered. */
function scripted(receives: Array<() => ReturnType<HostHandler>>): HostHandler {
  let shell = 0;
  let index = 0;
  return (request) => {
    if (request.action === ACTION.create) return reply.created(`S${++shell}`);
    if (request.action === ACTION.command) return reply.command('C1');
    if (request.action === ACTION.receive) {
      const next = receives[Math.min(index++, receives.length - 1)];
      if (!next) throw new Error('no receive scripted');
      return next();
    }
    return cleanupReply(request.action) ?? reply.fault(1, 'w:ActionNotSupported', 'unexpected');
  };
}

function decodeEncodedCommand(xml: string): string {
  const base64 = /<rsp:Arguments>-EncodedCommand<\/rsp:Arguments><rsp:Arguments>([^<]+)</.exec(
    xml,
  )?.[1];
  return Buffer.from(base64 ?? '', 'base64').toString('utf16le');
}

const done =
  (stdout: string, exitCode: number | null = 0) =>
  () =>
    reply.output(
      [
        { name: 'stdout', bytes: Buffer.from(stdout), end: true },
        { name: 'stderr', end: true },
      ],
      'Done',
      exitCode,
    );

describe('wsman transport: the WinRS flow', () => {
  it('returns at Done after Create, Command and Receive, then signals terminate in the background', async () => {
    const script = `Write-Output "it's "quoted" — 日本語 🚀"`;
    const { host, transport, device } = await setUp(scripted([done('hi\r\n', 3)]));

    const outcome = await transport.run(device, script, { timeoutMs: 10_000 });
    const beforeClose = host.actions();
    await transport.close();

    expect(outcome).toEqual({ state: 'Completed', exitCode: 3, stdout: 'hi\r\n', stderr: '' });
    expect(beforeClose.slice(0, 3)).toEqual(['Create', 'Command', 'Receive']);
    expect(host.actions()).toEqual(['Create', 'Command', 'Receive', 'Signal', 'Delete']);
    const create = host.requests[0]?.xml ?? '';
    expect(create).toContain('<w:Option Name="WINRS_CODEPAGE">65001</w:Option>');
    expect(create).toContain('<w:Option Name="WINRS_NOPROFILE">TRUE</w:Option>');
    expect(decodeEncodedCommand(host.requests[1]?.xml ?? '')).toBe(script);
  });

  it('receives again after w:TimedOut and joins a character split across responses', async () => {
    const bytes = Buffer.from('こんにちは\n');
    const { transport, device } = await setUp(
      scripted([
        () => reply.fault(FAULT_CODE.operationTimeout, 'w:TimedOut', 'timed out'),
        () => reply.output([{ name: 'stdout', bytes: bytes.subarray(0, 4) }], 'Running'),
        () => reply.fault(FAULT_CODE.operationTimeout, 'w:TimedOut', 'timed out'),
        () => reply.output([{ name: 'stdout', bytes: bytes.subarray(4), end: true }], 'Done', 0),
      ]),
    );

    const outcome = await transport.run(device, 'x', { timeoutMs: 10_000 });

    expect(outcome.stdout).toBe('こんにちは\n');
    expect(outcome.exitCode).toBe(0);
  });

  it('reports an unknown exit code when Done carries none', async () => {
    const { transport, device } = await setUp(scripted([done('', null)]));

    const outcome = await transport.run(device, 'x', { timeoutMs: 10_000 });

    expect(outcome.state).toBe('Completed');
    expect(outcome.exitCode).toBeUndefined();
  });

  it('strips a UTF-8 byte order mark and decodes CLIXML stderr', async () => {
    const clixml =
      '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">' +
      '<S S="Error">boom_x000D__x000A_</S><S S="warning">careful</S></Objs>';
    const { transport, device } = await setUp(
      scripted([
        () =>
          reply.output(
            [
              { name: 'stdout', bytes: Buffer.from('\uFEFFok'), end: true },
              { name: 'stderr', bytes: Buffer.from(clixml), end: true },
            ],
            'Done',
            1,
          ),
      ]),
    );

    const outcome = await transport.run(device, 'x', { timeoutMs: 10_000 });

    expect(outcome).toMatchObject({ stdout: 'ok', stderr: 'boom\r\n', exitCode: 1 });
    expect(outcome.streams).toEqual({ warning: ['careful'], verbose: [], progress: [] });
  });

  it('sends a script too long for the command line over stdin in chunks below the envelope limit', async () => {
    const script = `Write-Output '${'é'.repeat(30_000)}'`;
    const { host, transport, device } = await setUp(
      (request) =>
        request.action === ACTION.send
          ? reply.empty(ACTION.sendResponse)
          : scripted([done('ok')])(request),
      { maxEnvelopeBytes: 16 * 1024 },
    );

    await transport.run(device, script, { timeoutMs: 10_000 });

    const sends = host.requests.filter((r) => r.action === ACTION.send);
    expect(sends.length).toBeGreaterThan(3);
    for (const send of sends) expect(Buffer.byteLength(send.xml)).toBeLessThan(16 * 1024);
    expect(sends.at(-1)?.xml).toContain('End="true"');
    const stdin = sends
      .map((s) => Buffer.from(/Name="stdin"[^>]*>([^<]*)</.exec(s.xml)?.[1] ?? '', 'base64'))
      .map((b) => b.toString('ascii'))
      .join('');
    expect(Buffer.from(stdin.replace(/\s/g, ''), 'base64').toString('utf8')).toBe(script);
    const command = host.requests.find((r) => r.action === ACTION.command)?.xml ?? '';
    expect(decodeEncodedCommand(command)).toBe(STDIN_BOOTSTRAP);
    expect(host.actions().indexOf('Send')).toBeLessThan(host.actions().indexOf('Receive'));
  });
});

describe('wsman transport: deadline and abort', () => {
  it('terminates and deletes the shell at the deadline and returns the output so far', async () => {
    const { host, transport, device } = await setUp(
      scripted([
        () => reply.output([{ name: 'stdout', bytes: Buffer.from('partial') }], 'Running'),
        () => ({ hang: true }),
      ]),
    );

    const outcome = await transport.run(device, 'Start-Sleep 60', { timeoutMs: 300 });
    await transport.close();

    expect(outcome).toEqual({
      state: 'TimedOut',
      exitCode: undefined,
      stdout: 'partial',
      stderr: '',
    });
    expect(host.actions().slice(-2)).toEqual(['Signal', 'Delete']);
    expect(host.requests.at(-2)?.xml).toContain('signal/terminate');
  });

  it('deletes a shell whose Create answer arrives after the deadline', async () => {
    const base = scripted([done('never')]);
    const { host, transport, device } = await setUp(async (request) => {
      if (request.action !== ACTION.create) return base(request);
      await new Promise((resolve) => setTimeout(resolve, 400));
      return reply.created('LATE');
    });

    const outcome = await transport.run(device, 'x', { timeoutMs: 50 });
    await transport.close();

    expect(outcome.state).toBe('TimedOut');
    expect(host.actions()).toEqual(['Create', 'Delete']);
    expect(host.requests[1]?.xml).toContain('<w:Selector Name="ShellId">LATE</w:Selector>');
  });

  it('rejects with the abort reason and deletes the shell when the caller aborts', async () => {
    const { host, transport, device } = await setUp(scripted([() => ({ hang: true })]));
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('operation cancelled')), 100);

    const run = transport.run(device, 'x', { timeoutMs: 10_000, signal: controller.signal });

    await expect(run).rejects.toThrow('operation cancelled');
    await transport.close();
    expect(host.actions()).toContain('Delete');
  });
});

describe('wsman transport: sessions and quotas', () => {
  it('reuses one shell for consecutive commands and deletes it on close', async () => {
    const { host, transport, device } = await setUp(scripted([done('a')]));

    await transport.run(device, 'x', { timeoutMs: 10_000 });
    await transport.run(device, 'y', { timeoutMs: 10_000 });
    await transport.close();

    expect(host.actions().filter((a) => a === 'Create')).toHaveLength(1);
    expect(host.actions().at(-1)).toBe('Delete');
  });

  it('recycles a shell after maxCommandsPerShell commands', async () => {
    const { host, transport, device } = await setUp(scripted([done('a')]), {
      maxCommandsPerShell: 1,
    });

    await transport.run(device, 'x', { timeoutMs: 10_000 });
    await transport.run(device, 'y', { timeoutMs: 10_000 });

    expect(host.actions().filter((a) => a === 'Create')).toHaveLength(2);
    expect(host.actions()).toContain('Delete');
  });

  it('opens at most maxShellsPerDevice shells for concurrent runs', async () => {
    const { host, transport, device } = await setUp(scripted([done('a')]));

    await Promise.all([1, 2, 3, 4].map(() => transport.run(device, 'x', { timeoutMs: 10_000 })));

    expect(host.actions().filter((a) => a === 'Create').length).toBeLessThanOrEqual(2);
  });

  it('opens a new shell and retries once when the shell is not found before the command starts', async () => {
    let commands = 0;
    const base = scripted([done('ok')]);
    const { host, transport, device } = await setUp((request) => {
      if (request.action === ACTION.command && commands++ === 0) {
        return reply.fault(FAULT_CODE.shellNotFound, 'w:InvalidSelectors', 'shell not found');
      }
      return base(request);
    });

    const outcome = await transport.run(device, 'x', { timeoutMs: 10_000 });

    expect(outcome.stdout).toBe('ok');
    expect(host.actions().filter((a) => a === 'Create')).toHaveLength(2);
  });

  it('recycles shells and retries once on the shell quota fault', async () => {
    let creates = 0;
    const base = scripted([done('ok')]);
    const { transport, device } = await setUp((request) => {
      if (request.action === ACTION.create && creates++ === 0) {
        return reply.fault(FAULT_CODE.shellQuota, 'w:QuotaLimit', 'too many shells');
      }
      return base(request);
    });

    const outcome = await transport.run(device, 'x', { timeoutMs: 10_000 });

    expect(outcome.stdout).toBe('ok');
  });

  it('reports the operation quota fault when the retry on a new shell faults too', async () => {
    const base = scripted([done('ok')]);
    const { transport, device } = await setUp((request) =>
      request.action === ACTION.command
        ? reply.fault(FAULT_CODE.operationQuota, 'w:QuotaLimit', 'too many operations')
        : base(request),
    );

    const run = transport.run(device, 'x', { timeoutMs: 10_000 });

    await expect(run).rejects.toMatchObject({ kind: 'fault', code: FAULT_CODE.operationQuota });
  });
});

describe('wsman transport: errors', () => {
  it('raises WsmanAuthError on 401', async () => {
    const { transport, device } = await setUp(() => ({
      status: 401,
      headers: { 'www-authenticate': 'Basic realm="WSMAN"' },
    }));

    const error = await transport.run(device, 'x', { timeoutMs: 10_000 }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(WsmanAuthError);
    expect(resultStateForError(error)).toBe('Failed');
  });

  it('raises WsmanUnreachableError when the connection is refused', async () => {
    transport = createWsmanTransport({ auth });
    const device = { deviceId: 'gone', computerName: 'GONE', address: '127.15.1.9', port: 1 };

    const error = await transport.run(device, 'x', { timeoutMs: 10_000 }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(WsmanUnreachableError);
    expect(resultStateForError(error)).toBe('Unreachable');
  });

  it('raises WsmanFaultError with the code and message of a Command fault', async () => {
    const base = scripted([done('ok')]);
    const { transport, device } = await setUp((request) =>
      request.action === ACTION.command
        ? reply.fault(
            FAULT_CODE.fileNotFound,
            'w:InternalError',
            'The system cannot find the file specified.',
          )
        : base(request),
    );

    const error = await transport.run(device, 'x', { timeoutMs: 10_000 }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(WsmanFaultError);
    expect(error).toMatchObject({
      code: 2147942402,
      wsmanMessage: 'The system cannot find the file specified.',
    });
  });

  it('raises a WsmanProtocolError naming the envelope size when the host answers 413', async () => {
    const base = scripted([done('ok')]);
    const { host, transport, device } = await setUp((request) =>
      request.action === ACTION.command ? { status: 413 } : base(request),
    );

    const error = await transport.run(device, 'x', { timeoutMs: 10_000 }).catch((e: unknown) => e);
    await transport.close();

    expect(error).toBeInstanceOf(WsmanProtocolError);
    expect(error).toMatchObject({ httpStatus: 413, message: expect.stringMatching(/too large/) });
    expect(host.actions()).toContain('Delete');
  });

  it('raises a read WsmanTimeoutError when a connected host never answers', async () => {
    host = await startFakeHost('127.15.1.2', () => ({ hang: true }));
    const http = new WsmanHttpClient({
      host: host.address,
      port: host.port,
      https: false,
      auth,
      rejectUnauthorized: true,
      connectTimeoutMs: 5_000,
      readTimeoutMs: 100,
    });

    const error = await http.post('<x/>').catch((e: unknown) => e);
    http.close();

    expect(error).toBeInstanceOf(WsmanTimeoutError);
    expect(error).toMatchObject({ phase: 'read', retryable: true });
    expect(resultStateForError(error)).toBe('Failed');
  });

  it('raises WsmanProtocolError on a malformed answer and still deletes the shell', async () => {
    const base = scripted([() => ({ body: '<s:Envelope xmlns:s="nope"><broken' })]);
    const { host, transport, device } = await setUp(base);

    const error = await transport.run(device, 'x', { timeoutMs: 10_000 }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(WsmanProtocolError);
    await transport.close();
    expect(host.actions()).toContain('Delete');
  });
});
