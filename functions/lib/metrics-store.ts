import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { CloudEnv } from '../../shared/config.ts';
import { DeviceId, OperationId, SiteId } from '../../shared/schemas/index.ts';
import { tableName } from '../../shared/tables.ts';
import { parseItem } from './items.ts';

/**
 * One status sample of a device, as the connector's MetricsWriter stores it: the status
 * script's figures keyed by device and the result's finish time (ISO 8601, UTC).
 */
export const MetricPoint = z.object({
  deviceId: DeviceId,
  timestamp: z.string(),
  siteId: SiteId,
  operationId: OperationId,
  uptimeSeconds: z.number().int().min(0),
  cpuPercent: z.number().min(0).max(100),
  memoryTotalBytes: z.number().int().min(0),
  memoryFreeBytes: z.number().int().min(0),
  diskFreeBytes: z.number().int().min(0),
  diskTotalBytes: z.number().int().min(0),
});
export type MetricPoint = z.infer<typeof MetricPoint>;

/** The start key of a page of metric points, as kept in a cursor. */
export const MetricKey = z.strictObject({ deviceId: z.string().min(1), timestamp: z.string() });
export type MetricKey = z.infer<typeof MetricKey>;

export interface MetricsQuery {
  deviceId: string;
  /** Inclusive bounds, ISO 8601 in UTC as `Date.toISOString` writes it. */
  fromIso: string;
  toIso: string;
  limit: number;
  startKey?: MetricKey;
}

/** One page of a device's metric points between two instants, oldest first. */
export async function listMetricsPage(
  doc: DynamoDBDocumentClient,
  env: CloudEnv,
  query: MetricsQuery,
): Promise<{ items: MetricPoint[]; lastKey?: MetricKey }> {
  const table = tableName(env.WINFLEET_PREFIX, 'metrics');
  const out = await doc.send(
    new QueryCommand({
      TableName: table,
      // Timestamps are ISO 8601 in UTC, so their string order is their time order.
      KeyConditionExpression: 'deviceId = :deviceId AND #ts BETWEEN :from AND :to',
      ExpressionAttributeNames: { '#ts': 'timestamp' },
      ExpressionAttributeValues: {
        ':deviceId': query.deviceId,
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
  const lastKey = out.LastEvaluatedKey ? MetricKey.parse(out.LastEvaluatedKey) : undefined;
  return { items, lastKey };
}
