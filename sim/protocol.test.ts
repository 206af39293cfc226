import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StatusOutput } from '../shared/scripts/index.ts';
import { STATUS_SCRIPT } from '../shared/scripts/status.ts';
import { ACTION, FAULT_CODE, NS, SIGNAL } from '../shared/wsman.ts';
import { type Fleet, startFleet } from './index.ts';
import { buildEnvelope, faultCodeOf, findAll, outcome, RawClient } from './test-client.ts';
import { parseXml } from './xml.ts';

let fleet: Fleet;
let client: RawClient;

beforeAll(async () => {
  fleet = await startFleet({ devices: 2, subnet: '127.11.1.0/24' });
  client = new RawClient(fleet.devices[0]?.address ?? '');
});
afterAll(() => fleet.close());

describe('authentication', () => {
  it('answers 401 offering Negotiate and Basic when credentials are missing or wrong', async () => {
    const anonymous = await fetch(client.url, { method: 'POST', body: '' });
    const wrong = await new RawClient(client.address, 5985, 'winfleet', 'nope').post('<x/>');

    for (const response of [anonymous, wrong]) expect(response.status).toBe(401);
    const offered = anonymous.headers.get('www-authenticate') ?? '';
    expect(offered).toContain('Negotiate');
    expect(offered).toContain('Basic realm="WSMAN"');
  });
});

describe('shell lifecycle', () => {
  it('echoes the new shell with its id in a selector and in rsp:Shell', async () => {
    const body = `<r:Shell xmlns:r="${NS.shell}"><r:InputStreams>stdin</r:InputStreams></r:Shell>`;
    const request = buildEnvelope({
      action: ACTION.create,
      options: { WINRS_CODEPAGE: '65001' },
      body,
    });
    const messageId = /<wsa:MessageID>([^<]+)</.exec(request)?.[1];

    const response = await client.post(request);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/soap+xml;charset=UTF-8');
    const root = parseXml(response.text);
    const selector = findAll(root, NS.wsman, 'Selector')[0];
    const shellId = findAll(root, NS.shell, 'ShellId')[0]?.text;
    expect(selector?.attrs.get('Name')).toBe('ShellId');
    expect(shellId).toBe(selector?.text);
    expect(findAll(root, NS.addressing, 'RelatesTo')[0]?.text).toBe(messageId);
    expect(findAll(root, NS.addressing, 'Action')[0]?.text).toBe(ACTION.createResponse);
    expect((await client.deleteShell(shellId ?? '')).status).toBe(200);
  });

  it('runs a script to Done with its exit code and delivers stdout', async () => {
    const result = await client.runPowerShell('Write-Output \'first\'\n"second"\nexit 3');

    expect(result.stdout.toString('utf8')).toBe('first\r\nsecond\r\n');
    expect(result.exitCode).toBe(3);
  });

  it('runs cmd commands with their exit codes', async () => {
    const shellId = await client.createShell();
    const run = async (command: string, args: string[]) => {
      const id = await client.startCommand(shellId, command, args);
      return outcome(await client.receiveAll(shellId, id));
    };

    const echo = await run('echo', ['hello']);
    const exit = await run('exit', ['/b', '3']);
    const missing = await run('nosuchprogram', []);
    const ipconfig = await run('ipconfig', ['/all']);
    await client.deleteShell(shellId);

    expect([echo.stdout.toString(), echo.exitCode]).toEqual(['hello\r\n', 0]);
    expect(exit.exitCode).toBe(3);
    expect(missing.exitCode).toBe(9009);
    expect(missing.stderr.toString()).toContain("'nosuchprogram' is not recognized");
    expect(ipconfig.stdout.toString()).toContain(
      `IPv4 Address. . . . . . . . . . . : ${client.address}`,
    );
  });

  it('answers fault 2150858843 for an unknown shell and for a terminated command', async () => {
    const unknownShell = await client.receive('6D8E0C52-0000-0000-0000-000000000000', 'X');
    const shellId = await client.createShell();
    const commandId = await client.startPowerShell(shellId, 'Start-Sleep -Seconds 30');

    const terminated = await client.signal(shellId, commandId, SIGNAL.terminate);
    const afterTerminate = await client.receive(shellId, commandId);
    await client.deleteShell(shellId);
    const afterDelete = await client.deleteShell(shellId);

    expect(terminated.status).toBe(200);
    for (const result of [unknownShell, afterTerminate]) {
      expect([result.status, result.faultCode]).toEqual([500, FAULT_CODE.shellNotFound]);
    }
    expect([afterDelete.status, faultCodeOf(afterDelete.text)]).toEqual([
      500,
      FAULT_CODE.shellNotFound,
    ]);
  });

  it('ends a command stopped with ctrl_c as Done with STATUS_CONTROL_C_EXIT', async () => {
    const shellId = await client.createShell();
    const commandId = await client.startPowerShell(shellId, 'Start-Sleep -Seconds 30');

    await client.signal(shellId, commandId, SIGNAL.ctrlC);
    const result = outcome(await client.receiveAll(shellId, commandId));
    await client.deleteShell(shellId);

    expect(result.exitCode).toBe(-1073741510);
  });

  it('faults 2147942402 when WINRS_SKIP_CMD_SHELL runs a cmd built-in', async () => {
    const shellId = await client.createShell();
    const body = `<r:CommandLine xmlns:r="${NS.shell}"><r:Command>echo</r:Command><r:Arguments>hi</r:Arguments></r:CommandLine>`;
    const options = { WINRS_SKIP_CMD_SHELL: 'TRUE' };

    const response = await client.post(
      buildEnvelope({ action: ACTION.command, shellId, options, body }),
    );
    await client.deleteShell(shellId);

    expect([response.status, faultCodeOf(response.text)]).toEqual([500, FAULT_CODE.fileNotFound]);
  });
});

describe('Receive', () => {
  it('answers w:TimedOut 2150858793 while a command is silent, then the output', async () => {
    const shellId = await client.createShell();
    const commandId = await client.startPowerShell(
      shellId,
      "Start-Sleep -Milliseconds 1500\nWrite-Output 'done'",
    );

    const results = await client.receiveAll(shellId, commandId, 'PT1S');
    await client.deleteShell(shellId);

    const first = results[0];
    expect([first?.status, first?.faultCode]).toEqual([500, FAULT_CODE.operationTimeout]);
    expect(outcome(results).stdout.toString()).toBe('done\r\n');
    expect(outcome(results).exitCode).toBe(0);
    expect(fleet.stats.faultsByCode.get(FAULT_CODE.operationTimeout)).toBeGreaterThanOrEqual(1);
  });

  it('spreads output over several responses, cutting inside a UTF-8 character', async () => {
    const text = 'é€😀'.repeat(400);
    const strict = new TextDecoder('utf-8', { fatal: true });
    const shellId = await client.createShell();
    const commandId = await client.startPowerShell(shellId, `Write-Output '${text}'`);

    const results = await client.receiveAll(shellId, commandId);
    await client.deleteShell(shellId);

    const splitInside = results.some((r) => {
      try {
        strict.decode(Buffer.concat(r.stdout));
        return false;
      } catch {
        return true;
      }
    });
    expect(results.length).toBeGreaterThan(1);
    expect(splitInside).toBe(true);
    expect(outcome(results).stdout.toString('utf8')).toBe(`${text}\r\n`);
  });

  it('round-trips quotes, non-ASCII and emoji exactly in code page 65001', async () => {
    const text = `"double" ‘single’ ünïcödé 日本語 👩‍💻 🎉`;

    const result = await client.runPowerShell(`Write-Output '${text}'`);

    expect(result.stdout.toString('utf8')).toBe(`${text}\r\n`);
  });

  it('encodes output in code page 437 when the shell asks for it', async () => {
    const result = await client.runPowerShell("Write-Output 'é😀'", { WINRS_CODEPAGE: '437' });

    expect([...result.stdout]).toEqual([0x82, 0x3f, 0x0d, 0x0a]);
  });

  it('writes PowerShell errors to stderr as CLIXML and exits 1', async () => {
    const result = await client.runPowerShell("Write-Error 'it broke'\nWrite-Output 'after'");
    const thrown = await client.runPowerShell("throw 'fatal'\nWrite-Output 'never'");

    const stderr = result.stderr.toString('utf8');
    expect(stderr.startsWith('#< CLIXML\r\n<Objs ')).toBe(true);
    expect(stderr).toContain('<S S="Error">Write-Error \'it broke\' : it broke_x000D__x000A_</S>');
    expect(result.stdout.toString()).toBe('after\r\n');
    expect(result.exitCode).toBe(1);
    expect(thrown.stdout.toString()).toBe('');
    expect(thrown.stderr.toString()).toContain('<S S="Error">fatal_x000D__x000A_</S>');
    expect(thrown.exitCode).toBe(1);
  });

  it('reports an unknown command the way PowerShell does', async () => {
    const result = await client.runPowerShell('Get-Nonsense -Now');

    expect(result.stderr.toString()).toContain(
      "Get-Nonsense : The term 'Get-Nonsense' is not recognized as the name of a cmdlet",
    );
    expect(result.exitCode).toBe(1);
  });
});

describe('stdin', () => {
  it('runs a script sent over stdin in several Sends, split inside a character', async () => {
    const script = Buffer.from("Write-Output 'from stdin ✓'\nexit 4\n", 'utf8');
    const cut = script.indexOf(Buffer.from('✓')) + 1;
    const shellId = await client.createShell();
    const commandId = await client.startCommand(shellId, 'powershell', [
      '-NoProfile',
      '-NonInteractive',
      '-Command',
      '-',
    ]);

    const first = await client.send(shellId, commandId, script.subarray(0, cut), false);
    const second = await client.send(shellId, commandId, script.subarray(cut), true);
    const result = outcome(await client.receiveAll(shellId, commandId));
    await client.deleteShell(shellId);

    expect([first.status, second.status]).toEqual([200, 200]);
    expect(result.stdout.toString('utf8')).toBe('from stdin ✓\r\n');
    expect(result.exitCode).toBe(4);
  });
});

describe('built-in status script', () => {
  it('answers one JSON line matching StatusOutput, stable per device', async () => {
    const other = new RawClient(fleet.devices[1]?.address ?? '');

    const runs = [
      await client.runPowerShell(STATUS_SCRIPT),
      await client.runPowerShell(STATUS_SCRIPT),
    ];
    const elsewhere = await other.runPowerShell(STATUS_SCRIPT);

    const [a, b, c] = [...runs, elsewhere].map((r) =>
      StatusOutput.parse(JSON.parse(r.stdout.toString())),
    );
    expect(a?.computerName).toBe('WS-0001');
    expect(c?.computerName).toBe('WS-0002');
    expect({ ...a, cpuPercent: 0, memoryFreeBytes: 0, uptimeSeconds: 0 }).toEqual({
      ...b,
      cpuPercent: 0,
      memoryFreeBytes: 0,
      uptimeSeconds: 0,
    });
    expect(runs.every((r) => r.exitCode === 0 && r.stderr.length === 0)).toBe(true);
  });
});

describe('envelope limits', () => {
  it('answers 413 when the body exceeds maxEnvelopeBytes', async () => {
    const padding = `<!--${'x'.repeat(600_000)}-->`;

    const response = await client.post(buildEnvelope({ action: ACTION.create, body: padding }));

    expect(response.status).toBe(413);
  });

  it('answers a fault, not a crash, for a body that is not XML', async () => {
    const response = await client.post('<env:Envelope xmlns:env="x"><unclosed>');
    const after = await client.runPowerShell("Write-Output 'still up'");

    expect(response.status).toBe(400);
    expect(faultCodeOf(response.text)).toBeDefined();
    expect(after.stdout.toString()).toBe('still up\r\n');
  });
});
