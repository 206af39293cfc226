import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  INVENTORY_SCRIPT,
  InventoryOutput,
  ServiceOutput,
  serviceScript,
} from '../shared/scripts/index.ts';
import { type Fleet, startFleet } from './index.ts';
import { RawClient } from './test-client.ts';

let fleet: Fleet;
let first: RawClient;
let second: RawClient;

beforeAll(async () => {
  fleet = await startFleet({ devices: 2, subnet: '127.11.7.0/24' });
  first = new RawClient(fleet.devices[0]?.address ?? '');
  second = new RawClient(fleet.devices[1]?.address ?? '');
});
afterAll(() => fleet.close());

async function inventory(client: RawClient): Promise<InventoryOutput> {
  const result = await client.runPowerShell(INVENTORY_SCRIPT);
  expect({ exitCode: result.exitCode, stderr: result.stderr.toString() }).toEqual({
    exitCode: 0,
    stderr: '',
  });
  return InventoryOutput.parse(JSON.parse(result.stdout.toString()));
}

describe('built-in inventory script', () => {
  it('answers one JSON line matching InventoryOutput, the same on every run of a device', async () => {
    const [a, b, c] = [await inventory(first), await inventory(first), await inventory(second)];

    expect(a).toEqual(b);
    expect(a.computerName).toBe('WS-0001');
    expect(c.computerName).toBe('WS-0002');
    expect(a.hardware.serialNumber).not.toBe(c.hardware.serialNumber);
    expect(a.services.map((s) => s.name)).toContain('Spooler');
    expect(a.disks[0]?.freeBytes).toBeLessThanOrEqual(a.disks[0]?.sizeBytes ?? 0);
  });
});

describe('built-in service script', () => {
  it('stops and starts the named service and the inventory sees the change', async () => {
    const stop = await first.runPowerShell(serviceScript('spooler', 'stop'));
    const afterStop = await inventory(first);
    const start = await first.runPowerShell(serviceScript('Spooler', 'start'));

    expect(ServiceOutput.parse(JSON.parse(stop.stdout.toString()))).toEqual({
      name: 'Spooler',
      displayName: 'Print Spooler',
      action: 'stop',
      status: 'Stopped',
    });
    expect(afterStop.services.find((s) => s.name === 'Spooler')?.state).toBe('Stopped');
    expect(JSON.parse(start.stdout.toString())).toMatchObject({ status: 'Running' });
    expect((await inventory(second)).services.find((s) => s.name === 'Spooler')?.state).toBe(
      'Running',
    );
  });

  it('fails like Get-Service for a service the device does not have, even a hostile name', async () => {
    const name = 'no\'such" $svc';

    const result = await first.runPowerShell(serviceScript(name, 'restart'));

    expect(result.exitCode).toBe(1);
    expect(result.stdout.toString()).toBe('');
    expect(result.stderr.toString()).toContain(`service with service name '${name}'.`);
    expect(result.stderr.toString()).toContain('NoServiceFoundForGivenName');
  });
});
