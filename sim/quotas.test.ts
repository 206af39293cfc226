import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION, FAULT_CODE } from '../shared/wsman.ts';
import { type Fleet, startFleet } from './index.ts';
import { buildEnvelope, faultCodeOf, RawClient } from './test-client.ts';

let fleet: Fleet;
let client: RawClient;

beforeAll(async () => {
  fleet = await startFleet({
    devices: 2,
    subnet: '127.11.2.0/24',
    maxShellsPerUser: 3,
    maxCommandsPerShell: 2,
    idleShellTimeoutMs: 300,
  });
  client = new RawClient(fleet.devices[0]?.address ?? '');
});
afterAll(() => fleet.close());

async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 25));
}

describe('quotas', () => {
  it('refuses a shell past MaxShellsPerUser with 2150859173 until one is deleted', async () => {
    const shells = [
      await client.createShell(),
      await client.createShell(),
      await client.createShell(),
    ];

    const refused = await client.post(buildEnvelope({ action: ACTION.create }));
    await client.deleteShell(shells[0] ?? '');
    const replacement = await client.createShell();
    for (const shellId of [...shells.slice(1), replacement]) await client.deleteShell(shellId);

    expect([refused.status, faultCodeOf(refused.text)]).toEqual([500, FAULT_CODE.shellQuota]);
    expect(replacement).toMatch(/^[0-9A-F-]{36}$/);
  });

  it('never frees a terminated command slot: the shell faults 2150859174 past its budget', async () => {
    const shellId = await client.createShell();
    for (let i = 0; i < 2; i++) {
      const commandId = await client.startPowerShell(shellId, `Write-Output ${i}`);
      await client.receiveAll(shellId, commandId);
      await client.signal(shellId, commandId);
    }

    const refused = await client.command(shellId, 'echo', ['again']);
    const freshShell = await client.createShell();
    const accepted = await client.command(freshShell, 'echo', ['again']);
    await client.deleteShell(shellId);
    await client.deleteShell(freshShell);

    expect([refused.status, faultCodeOf(refused.text)]).toEqual([500, FAULT_CODE.operationQuota]);
    expect(accepted.status).toBe(200);
  });

  it('reaps an idle shell, after which it is unknown (2150858843)', async () => {
    const shellId = await client.createShell();
    const commandId = await client.startPowerShell(shellId, 'Start-Sleep -Seconds 30');

    await waitUntil(() => fleet.stats.shellsOpen === 0);
    const afterReap = await client.receive(shellId, commandId);

    expect([afterReap.status, afterReap.faultCode]).toEqual([500, FAULT_CODE.shellNotFound]);
    expect(fleet.stats.activeCommands).toBe(0);
  });
});
