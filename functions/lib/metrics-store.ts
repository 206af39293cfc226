import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { CloudEnv } from '../../shared/config.ts';
import {
  decodePoints,
  METRIC_BATCH_SPAN_MS,
  SITE_METRICS_PREFIX,
  siteMetricsKey,
} from '../../shared/metric-batches.ts';
import { DeviceId, OperationId, SiteId } from '../../shared/schemas/index.ts';
import { StatusOutput } from '../../shared/scripts/status.ts';
import { tableName } from '../../shared/tables.ts';
import { CorruptItemError } from '../errors.ts';
import { parseItem } from './items.ts';

/** One status sample of a device, as `GET /devices/{id}/metrics` answers with it. */
export const MetricPoint = z.object({
  deviceId: DeviceId,
  /** When the status result finished, ISO 8601 in UTC. */
  timestamp: z.string(),
  siteId: SiteId,
  operationId: OperationId,
  ...StatusOutput.pick({
    uptimeSeconds: true,
    cpuPercent: true,
    memoryTotalBytes: true,
    memoryFreeBytes: true,
    diskFreeBytes: true,
    diskTotalBytes: true,
  }).shape,
});
export type MetricPoint = z.infer<typeof MetricPoint>;

/**
 * The start key of a page of metric points, as kept in a cursor: a key of the device's own
 * partition (points stored one per item, the earlier layout; the page starts after it) or of
 * its site's partition (`site#<siteId>`, one item per batch, see shared/metric-batches.ts; the
 * page starts at that item, after the first `skip` of the device's points in it).
 */
export const MetricKey = z.strictObject({
  deviceId: z.string().min(1),
  timestamp: z.string(),
  skip: z.number().int().min(0).max(100_000).optional(),
});
export type MetricKey = z.infer<typeof MetricKey>;

/** A metrics item holding one batch's points. */
const BatchItem = z.object({
  deviceId: z.string(),
  timestamp: z.string(),
  siteId: SiteId,
  operationId: OperationId,
  baseTime: z.string(),
  points: z.instanceof(Uint8Array),
});

/** Batch items read per query call; each holds up to a batch's worth of devices. */
const BATCH_ITEMS_PER_READ = 25;

export interface MetricsQuery {
  deviceId: string;
  /** The device's site, whose partition holds its batched points. */
  siteId: string;
  /** Inclusive bounds, ISO 8601 in UTC as `Date.toISOString` writes it. */
  fromIso: string;
  toIso: string;
  /** Points wanted; a page of batched points may hold a few more. */
  limit: number;
  startKey?: MetricKey;
}

/** Whether a cursor's key belongs to this query (a forged one could read another device). */
export function startKeyFits(query: MetricsQuery, key: MetricKey): boolean {
  if (key.deviceId === query.deviceId) {
    return key.timestamp >= query.fromIso && key.timestamp <= query.toIso;
  }
  const range = batchRange(query);
  return (
    key.deviceId === siteMetricsKey(query.siteId) &&
    key.timestamp >= range.lo &&
    key.timestamp <= range.hi
  );
}

/**
 * One page of a device's metric points between two instants: first those stored one per item
 * in the device's partition, then those in its site's batch items, each part oldest first.
 */
export async function listMetricsPage(
  doc: DynamoDBDocumentClient,
  env: CloudEnv,
  query: MetricsQuery,
): Promise<{ items: MetricPoint[]; lastKey?: MetricKey }> {
  const table = tableName(env.WINFLEET_PREFIX, 'metrics');
  const { startKey } = query;
  if (startKey?.deviceId.startsWith(SITE_METRICS_PREFIX)) {
    return batchedPage(doc, table, query, { timestamp: startKey.timestamp, skip: startKey.skip });
  }
  const own = await devicePage(doc, table, query);
  if (own.lastKey) return own;
  if (own.items.length >= query.limit) {
    // The next page starts at the site's batch items: from the first of the window.
    const start = { deviceId: siteMetricsKey(query.siteId), timestamp: batchRange(query).lo };
    return { items: own.items, lastKey: start };
  }
  const rest = await batchedPage(doc, table, { ...query, limit: query.limit - own.items.length });
  return { items: [...own.items, ...rest.items], lastKey: rest.lastKey };
}

async function devicePage(doc: DynamoDBDocumentClient, table: string, query: MetricsQuery) {
  const out = await doc.send(
    new QueryCommand({
      TableName: table,
      // Timestamps are ISO 8601 in UTC, so their string order is their time order.
      KeyConditionExpression: 'deviceId = :pk AND #ts BETWEEN :from AND :to',
      ExpressionAttributeNames: { '#ts': 'timestamp' },
      ExpressionAttributeValues: {
        ':pk': query.deviceId,
        ':from': query.fromIso,
        ':to': query.toIso,
      },
      Limit: query.limit,
      ExclusiveStartKey: query.startKey,
    }),
  );
  const items = (out.Items ?? []).map((item) =>
    parseItem(MetricPoint, item, table, `${query.deviceId}/${String(item.timestamp)}`),
  );
  return {
    items,
    lastKey: out.LastEvaluatedKey ? MetricKey.parse(out.LastEvaluatedKey) : undefined,
  };
}

/** Where a page starts in the site's batch items: at this item, after `skip` of its points. */
interface BatchStart {
  timestamp: string;
  skip?: number;
}

/**
 * Up to `limit` of the device's points from its site's batch items, read a few items at a time
 * from `start` (else the window's first item). When the page fills, its cursor names the item
 * of the last point returned and how many of the device's points in it were returned. Costly
 * for a big site: every batch of the window is read to find one device's points.
 */
async function batchedPage(
  doc: DynamoDBDocumentClient,
  table: string,
  query: MetricsQuery,
  start?: BatchStart,
): Promise<{ items: MetricPoint[]; lastKey?: MetricKey }> {
  const range = batchRange(query);
  const siteKey = siteMetricsKey(query.siteId);
  const items: MetricPoint[] = [];
  let key: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'deviceId = :pk AND #ts BETWEEN :lo AND :hi',
        ExpressionAttributeNames: { '#ts': 'timestamp' },
        ExpressionAttributeValues: {
          ':pk': siteKey,
          ':lo': start?.timestamp ?? range.lo,
          ':hi': range.hi,
        },
        Limit: BATCH_ITEMS_PER_READ,
        ExclusiveStartKey: key,
      }),
    );
    for (const item of out.Items ?? []) {
      const timestamp = String(item.timestamp);
      const skip = timestamp === start?.timestamp ? (start.skip ?? 0) : 0;
      const points = pointsOf(item, table, query);
      const taken = points.slice(skip, skip + query.limit - items.length);
      items.push(...taken);
      if (items.length >= query.limit) {
        return { items, lastKey: { deviceId: siteKey, timestamp, skip: skip + taken.length } };
      }
    }
    key = out.LastEvaluatedKey;
  } while (key);
  return { items };
}

/**
 * Sort keys of the batch items that may hold points of the window: a batch item is keyed by
 * its base time, and its points follow within METRIC_BATCH_SPAN_MS.
 */
function batchRange(query: MetricsQuery): { lo: string; hi: string } {
  const lo = new Date(Date.parse(query.fromIso) - METRIC_BATCH_SPAN_MS).toISOString();
  return { lo, hi: `${query.toIso}#\uffff` };
}

function pointsOf(item: Record<string, unknown>, table: string, query: MetricsQuery) {
  const key = `${String(item.deviceId)}/${String(item.timestamp)}`;
  const batch = parseItem(BatchItem, item, table, key);
  let points: ReturnType<typeof decodePoints>;
  try {
    points = decodePoints(batch.points, Date.parse(batch.baseTime));
  } catch (error) {
    throw new CorruptItemError(table, key, error);
  }
  return points
    .filter((p) => p.deviceId === query.deviceId)
    .filter((p) => p.timestamp >= query.fromIso && p.timestamp <= query.toIso)
    .map((p) => MetricPoint.parse({ ...p, siteId: batch.siteId, operationId: batch.operationId }));
}
