import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fleet, startFleet } from './index.ts';
import { outcome, RawClient } from './test-client.ts';

let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({ devices: 2, subnet: '127.11.4.0/24' });
});
afterAll(() => fleet.close());

describe('stats', () => {
  it('counts commands active from Command until Done, fleet-wide and per device', async () => {
    const [a, b] = fleet.devices.map((d) => new RawClient(d.address));
    if (!a || !b) throw new Error('two devices expected');
    const started: Array<{ client: RawClient; shellId: string; commandId: string }> = [];
    for (const client of [a, a, a, b, b]) {
      const shellId = await client.createShell();
      const commandId = await client.startPowerShell(
        shellId,
        "Start-Sleep -Milliseconds 300\n'ok'",
      );
      started.push({ client, shellId, commandId });
    }

    const during = {
      active: fleet.stats.activeCommands,
      onA: fleet.stats.activeCommandsByDevice.get('WS-0001'),
      onB: fleet.stats.activeCommandsByDevice.get('WS-0002'),
      shells: fleet.stats.shellsOpen,
    };
    const results = await Promise.all(
      started.map(async ({ client, shellId, commandId }) => {
        const done = outcome(await client.receiveAll(shellId, commandId));
        await client.deleteShell(shellId);
        return done;
      }),
    );

    expect(during).toEqual({ active: 5, onA: 3, onB: 2, shells: 5 });
    expect(results.every((r) => r.stdout.toString() === 'ok\r\n')).toBe(true);
    expect(fleet.stats.activeCommands).toBe(0);
    expect(fleet.stats.activeCommandsByDevice.size).toBe(0);
    expect(fleet.stats.maxActiveCommands).toBe(5);
    expect(fleet.stats.maxActiveCommandsPerDevice).toBe(3);
    expect(fleet.stats.commandsRun).toBe(5);
    expect(fleet.stats.shellsOpen).toBe(0);

    fleet.resetStats();

    expect([fleet.stats.commandsRun, fleet.stats.maxActiveCommands]).toEqual([0, 0]);
    expect(fleet.stats.maxActiveCommandsPerDevice).toBe(0);
  });
});
