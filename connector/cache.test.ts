import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeviceResult } from '../shared/schemas/result.ts';
import { Archive } from './archive/index.ts';
import { cachedResult } from './cache.ts';
import { statusBatch } from './testing/batches.ts';

const FINISHED_AT = '2025-01-01T00:00:00.000Z';
const at = (seconds: number) => new Date(Date.parse(FINISHED_AT) + seconds * 1000);

describe('cachedResult', () => {
  let dir: string;
  let archive: Archive;
  const earlier = statusBatch('op-earlier0001', 1);
  const device = earlier.devices[0] as NonNullable<(typeof earlier.devices)[0]>;

  function archived(overrides: Partial<DeviceResult> = {}): DeviceResult {
    return {
      operationId: earlier.operationId,
      deviceId: device.deviceId,
      siteId: 'site-a',
      batchId: earlier.batchId,
      status: 'Success',
      exitCode: 0,
      stdout: '{"cpuPercent":3}',
      output: { cpuPercent: 3 },
      startedAt: FINISHED_AT,
      finishedAt: FINISHED_AT,
      durationMs: 10,
      ...overrides,
    };
  }

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'winfleet-cache-'));
    archive = new Archive(path.join(dir, 'archive.db'));
    archive.recordOperation(earlier.operationId, 'status', FINISHED_AT);
  });
  afterEach(() => {
    archive.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a status answer younger than 5 minutes as Cached with its age', () => {
    archive.insertResults([archived()]);
    const later = statusBatch('op-later000001', 1, { devices: [device] });

    const result = cachedResult(archive, later, device, at(299));

    expect(result).toMatchObject({
      operationId: 'op-later000001',
      status: 'Cached',
      cacheAgeSeconds: 299,
      output: { cpuPercent: 3 },
    });
  });

  it('runs again past the TTL, when forced, after a failure, or for another type', () => {
    archive.insertResults([archived()]);
    const later = statusBatch('op-later000001', 1, { devices: [device] });

    expect(cachedResult(archive, later, device, at(301))).toBeUndefined();
    expect(cachedResult(archive, { ...later, force: true }, device, at(10))).toBeUndefined();
    expect(cachedResult(archive, { ...later, type: 'inventory' }, device, at(10))).toBeUndefined();
  });

  it('never serves a failed answer', () => {
    archive.insertResults([archived({ status: 'Failed', exitCode: 1 })]);
    const later = statusBatch('op-later000001', 1, { devices: [device] });

    expect(cachedResult(archive, later, device, at(10))).toBeUndefined();
  });
});
