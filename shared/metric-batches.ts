import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';

/**
 * Metric points are stored one item per batch, not one per device (a 10,000-device status
 * sweep would otherwise cost 10,000 write units): partition key `deviceId` holds
 * `site#<siteId>`, sort key `timestamp` holds `<batch base time>#<operationId>#<batchId>`, and
 * `points` the batch's points, gzip-compressed. A device's series is read from its site's
 * partition by time range (see functions/lib/device-metrics.ts). Items written before this
 * layout (one per device, keyed by the device id) are read too.
 */
export const SITE_METRICS_PREFIX = 'site#';

/**
 * How long before a range's start a batch item may begin and still hold points inside the
 * range: the item is keyed by its first result's start, its points follow within the batch.
 */
export const METRIC_BATCH_SPAN_MS = 60 * 60 * 1000;

/** One device's status sample. */
export const MetricPoint = z.object({
  deviceId: z.string(),
  timestamp: z.string(),
  uptimeSeconds: z.number(),
  cpuPercent: z.number(),
  memoryTotalBytes: z.number(),
  memoryFreeBytes: z.number(),
  diskFreeBytes: z.number(),
  diskTotalBytes: z.number(),
});
export type MetricPoint = z.infer<typeof MetricPoint>;

/** A point as a batch item packs it: the device, ms after the base time, then the values. */
const PackedPoint = z.tuple([
  z.string(),
  z.number(),
  z.number(),
  z.number(),
  z.number(),
  z.number(),
  z.number(),
  z.number(),
]);

export function siteMetricsKey(siteId: string): string {
  return `${SITE_METRICS_PREFIX}${siteId}`;
}

export function metricBatchTimestamp(baseTime: string, operationId: string, batchId: string) {
  return `${baseTime}#${operationId}#${batchId}`;
}

export function encodePoints(points: readonly MetricPoint[], baseMs: number): Uint8Array {
  const packed = points.map((p) => [
    p.deviceId,
    Date.parse(p.timestamp) - baseMs,
    p.uptimeSeconds,
    p.cpuPercent,
    p.memoryTotalBytes,
    p.memoryFreeBytes,
    p.diskFreeBytes,
    p.diskTotalBytes,
  ]);
  return gzipSync(JSON.stringify(packed));
}

export function decodePoints(blob: Uint8Array, baseMs: number): MetricPoint[] {
  const packed = z.array(PackedPoint).parse(JSON.parse(gunzipSync(blob).toString('utf8')));
  return packed.map(
    ([deviceId, offsetMs, uptime, cpu, memTotal, memFree, diskFree, diskTotal]) => ({
      deviceId,
      timestamp: new Date(baseMs + offsetMs).toISOString(),
      uptimeSeconds: uptime,
      cpuPercent: cpu,
      memoryTotalBytes: memTotal,
      memoryFreeBytes: memFree,
      diskFreeBytes: diskFree,
      diskTotalBytes: diskTotal,
    }),
  );
}
