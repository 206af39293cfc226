import type { BatchMessage } from '../shared/schemas/batch.ts';
import type { DeviceTarget } from '../shared/schemas/device.ts';
import type { OperationType } from '../shared/schemas/operation.ts';
import type { DeviceResult } from '../shared/schemas/result.ts';
import type { Archive } from './archive/index.ts';

/** How long a device's answer to a built-in operation may be served again, in seconds. */
export const CACHE_TTL_SECONDS: Partial<Record<OperationType, number>> = {
  status: 5 * 60,
  inventory: 24 * 3600,
};

/**
 * The device's answer from the archive when a recent Success of the same operation type exists
 * and the batch does not force a fresh run: reported as `Cached` with its age.
 */
export function cachedResult(
  archive: Archive,
  batch: BatchMessage,
  device: DeviceTarget,
  now: Date = new Date(),
): DeviceResult | undefined {
  const ttlSeconds = CACHE_TTL_SECONDS[batch.type];
  if (batch.force || ttlSeconds === undefined) return undefined;
  const since = new Date(now.getTime() - ttlSeconds * 1000);
  const hit = archive.latestSuccess(device.deviceId, batch.type, since)?.result;
  if (!hit || hit.operationId === batch.operationId) return undefined;
  const ageSeconds = Math.max(0, Math.floor((now.getTime() - Date.parse(hit.finishedAt)) / 1000));
  const at = now.toISOString();
  return {
    operationId: batch.operationId,
    deviceId: device.deviceId,
    siteId: batch.siteId,
    batchId: batch.batchId,
    status: 'Cached',
    exitCode: hit.exitCode,
    stdout: hit.stdout,
    output: hit.output,
    cacheAgeSeconds: ageSeconds,
    startedAt: at,
    finishedAt: at,
    durationMs: 0,
  };
}
