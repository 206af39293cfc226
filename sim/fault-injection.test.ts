import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATUS_SCRIPT } from '../shared/scripts/status.ts';
import { type Fleet, startFleet } from './index.ts';
import { RawClient } from './test-client.ts';
import { parseXml } from './xml.ts';

let fleet: Fleet;
const clients = new Map<string, RawClient>();

beforeAll(async () => {
  fleet = await startFleet({
    subnet: '127.11.3.0/24',
    devices: [
      { computerName: 'HEALTHY' },
      { computerName: 'GONE', faults: { unreachable: true } },
      { computerName: 'GARBLED', faults: { malformedXml: true } },
      { computerName: 'DROPPY', faults: { dropConnection: true } },
      { computerName: 'SLOW', faults: { slowResponseMs: 10_000 } },
      { computerName: 'SICK', faults: { failStatus: true } },
      { computerName: 'UTF', codePage: 65001 },
    ],
  });
  for (const device of fleet.devices)
    clients.set(device.computerName, new RawClient(device.address));
});
afterAll(() => fleet.close());

function clientFor(name: string): RawClient {
  const client = clients.get(name);
  if (!client) throw new Error(`no device ${name}`);
  return client;
}

async function errorCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return cause?.code ?? (error as { name?: string }).name;
  }
}

describe('per-device settings', () => {
  it("uses the device's code page when the shell does not ask for one", async () => {
    const utf = await clientFor('UTF').runPowerShell("Write-Output 'é'", {});
    const oem = await clientFor('HEALTHY').runPowerShell("Write-Output 'é'", {});

    expect(utf.stdout.toString('hex')).toBe('c3a90d0a');
    expect(oem.stdout.toString('hex')).toBe('820d0a');
  });
});

describe('fault injection', () => {
  it('refuses connections to an unreachable device', async () => {
    expect(fleet.devices.map((d) => d.computerName)).toContain('GONE');

    expect(await errorCode(clientFor('GONE').createShell())).toBe('ECONNREFUSED');
  });

  it('answers 200 with a body that is not XML for malformedXml', async () => {
    const response = await clientFor('GARBLED').post('<x/>');

    expect(response.status).toBe(200);
    expect(() => parseXml(response.text)).toThrow();
  });

  it('drops the connection without an answer for dropConnection', async () => {
    const code = await errorCode(clientFor('DROPPY').post('<x/>'));

    expect(code).toMatch(/ECONNRESET|UND_ERR_SOCKET/);
  });

  it('holds answers back for slowResponseMs', async () => {
    const slow = fetch(clientFor('SLOW').url, { method: 'POST', signal: AbortSignal.timeout(300) });
    const healthy = fetch(clientFor('HEALTHY').url, {
      method: 'POST',
      signal: AbortSignal.timeout(5_000),
    });

    expect(await errorCode(slow)).toBe('TimeoutError');
    expect((await healthy).status).toBe(401);
  });

  it('fails the status script with a CLIXML error and exit 1 for failStatus', async () => {
    const sick = await clientFor('SICK').runPowerShell(STATUS_SCRIPT);
    const healthy = await clientFor('HEALTHY').runPowerShell(STATUS_SCRIPT);

    expect(sick.exitCode).toBe(1);
    expect(sick.stdout.length).toBe(0);
    expect(sick.stderr.toString()).toContain('<S S="Error">Get-CimInstance : ');
    expect(healthy.exitCode).toBe(0);
  });
});

describe('fleet latency', () => {
  it('holds every answer back by latencyMs, authentication refusals included', async () => {
    const delayed = await startFleet({ devices: 1, subnet: '127.11.6.0/24', latencyMs: 10_000 });
    const url = `http://${delayed.devices[0]?.address}:5985/wsman`;

    const code = await errorCode(fetch(url, { method: 'POST', signal: AbortSignal.timeout(300) }));
    await delayed.close();

    expect(code).toBe('TimeoutError');
  });
});
