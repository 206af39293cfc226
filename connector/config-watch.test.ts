import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../shared/logger.ts';
import type { DeviceResult } from '../shared/schemas/result.ts';
import { type Fleet, startFleet } from '../sim/index.ts';
import { loadConnectorConfig } from './config.ts';
import { applyLiveConfig, throttleSettings, watchConnectorConfig } from './config-watch.ts';
import { operationScript } from './operation-script.ts';
import { runOnDevice } from './runner.ts';
import { SiteThrottle } from './throttle.ts';
import { createTransport } from './transports.ts';

const logger = createLogger('test', { level: 'silent' });
const credentials = { user: 'fleet-admin', password: 'sim-secret' };

describe('config reload', () => {
  let fleet: Fleet;
  let dir: string;
  let file: string;

  beforeAll(async () => {
    fleet = await startFleet({
      devices: 6,
      subnet: '127.80.1.0/24',
      siteId: 'site-a',
      ...credentials,
    });
    dir = mkdtempSync(path.join(tmpdir(), 'winfleet-config-watch-'));
    file = path.join(dir, 'connector.json');
  });

  afterAll(async () => {
    await fleet.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Replaces the file the way editors do: a new file renamed over the old one. */
  function writeConfig(extra: Record<string, unknown> | string): void {
    const body =
      typeof extra === 'string'
        ? extra
        : JSON.stringify({
            siteId: 'site-a',
            dataDir: '.',
            transport: { type: 'wsman', auth: { type: 'basic', ...credentials } },
            ...extra,
          });
    writeFileSync(`${file}.tmp`, body);
    renameSync(`${file}.tmp`, file);
  }

  it('takes a new throttle limit while a batch runs and keeps the device in flight', async () => {
    writeConfig({ throttleLimit: 1 });
    const config = await loadConnectorConfig(file);
    const throttle = new SiteThrottle(throttleSettings(config));
    const watcher = watchConnectorConfig({
      file,
      current: config,
      logger,
      debounceMs: 20,
      onChange: (next) => applyLiveConfig(throttle, next),
    });
    const transport = createTransport(config.transport, logger);
    const job = {
      operationId: 'op-0000000001',
      batchId: 'b-1',
      siteId: 'site-a',
      script: operationScript('script', {
        script: 'Start-Sleep -Milliseconds 300; Write-Output done',
      }),
      timeoutMs: 30_000,
    };
    let openGate = () => {};
    const gate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    let firstHeld = () => {};
    const firstHolds = new Promise<void>((resolve) => {
      firstHeld = resolve;
    });
    const runDevice = async (index: number): Promise<DeviceResult> => {
      const device = fleet.devices[index];
      if (!device) throw new Error(`no device ${index}`);
      const target = { deviceId: `dev-${index}`, ...device };
      const release = await throttle.acquire({
        operationId: job.operationId,
        deviceId: target.deviceId,
        operationLimit: 10,
      });
      try {
        const result = await runOnDevice(transport, target, job, new AbortController().signal);
        if (index === 0) {
          firstHeld();
          await gate;
        }
        return result;
      } finally {
        release();
      }
    };

    const batch = Promise.all(fleet.devices.map((_, i) => runDevice(i)));
    await firstHolds;
    const before = { inFlight: throttle.inFlight, waiting: throttle.waiting };
    fleet.resetStats();
    writeConfig('{ "siteId": "site-a", "throttleLimit": ');
    writeConfig({ throttleLimit: 3 });
    await expect.poll(() => throttle.budget, { timeout: 10_000 }).toBe(3);
    const inFlightAtReload = throttle.inFlight;
    await expect.poll(() => fleet.stats.commandsRun >= 2, { timeout: 10_000 }).toBe(true);
    const maxWhileHeld = fleet.stats.maxActiveCommands;
    openGate();
    const results = await batch;
    watcher.close();
    await transport.close();

    expect(before).toEqual({ inFlight: 1, waiting: 5 });
    expect(inFlightAtReload).toBe(3);
    expect(maxWhileHeld).toBe(2);
    expect(fleet.stats.maxActiveCommands).toBeLessThanOrEqual(3);
    expect(results.map((r) => r.status)).toEqual(Array(6).fill('Success'));
    expect(throttle.inFlight).toBe(0);
  });

  it('keeps the config in force when the new file is invalid', async () => {
    writeConfig({ throttleLimit: 2 });
    const config = await loadConnectorConfig(file);
    const throttle = new SiteThrottle(throttleSettings(config));
    const seen: string[][] = [];
    const watcher = watchConnectorConfig({
      file,
      current: config,
      logger,
      debounceMs: 20,
      onChange: (next, changed) => {
        seen.push(changed);
        applyLiveConfig(throttle, next);
      },
    });

    writeConfig({ throttleLimit: 0 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const afterInvalid = throttle.budget;
    writeConfig({ throttleLimit: 4, rampUp: true, jitterMs: 50 });
    await expect.poll(() => throttle.budget, { timeout: 10_000 }).toBe(4);
    watcher.close();

    expect(afterInvalid).toBe(2);
    expect(seen).toEqual([['throttleLimit', 'rampUp', 'jitterMs']]);
  });
});
