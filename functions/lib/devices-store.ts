import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { CloudEnv } from '../../shared/config.ts';
import { Device, DeviceState } from '../../shared/schemas/index.ts';
import { TABLES, tableName } from '../../shared/tables.ts';
import { putAll } from './batch-write.ts';
import { backoff, parseItem, setExpression } from './items.ts';

/** A device as stored: the device plus what connectors last saw of it. */
export const DeviceItem = z.object({
  ...Device.shape,
  lastStatus: DeviceState.optional(),
  lastSeenAt: z.string().optional(),
});
export type DeviceItem = z.infer<typeof DeviceItem>;

/** The start key of a page of devices, as kept in a cursor. */
export const DeviceKey = z.strictObject({
  deviceId: z.string().min(1),
  siteId: z.string().min(1).optional(),
});
export type DeviceKey = z.infer<typeof DeviceKey>;

/** BatchGetItem's limit on keys per call. */
const MAX_KEYS_PER_GET = 100;
const MAX_GET_ATTEMPTS = 8;

/** Registers or replaces devices (BatchWriteItem, 25 per call, unprocessed items retried). */
export async function putDevices(
  doc: DynamoDBDocumentClient,
  env: CloudEnv,
  devices: readonly z.input<typeof Device>[],
): Promise<void> {
  const items = devices.map((device) => Device.parse(device));
  await putAll(doc, tableName(env.WINFLEET_PREFIX, 'devices'), items);
}

export interface DevicePage {
  items: DeviceItem[];
  lastKey?: DeviceKey;
}

/**
 * One page of devices, of one site (the bySite index) or of every site (a scan), optionally
 * only those whose last status is `status`. With a filter DynamoDB may read pages that match
 * nothing, so pages are followed until the limit is reached or the devices end.
 */
export async function listDevicesPage(
  doc: DynamoDBDocumentClient,
  env: CloudEnv,
  query: { siteId?: string; status?: string; limit: number; startKey?: DeviceKey },
): Promise<DevicePage> {
  const table = tableName(env.WINFLEET_PREFIX, 'devices');
  const items: DeviceItem[] = [];
  let startKey = query.startKey;
  do {
    const limit = query.limit - items.length;
    const out = await doc.send(devicePageCommand(table, { ...query, limit, startKey }));
    for (const item of out.Items ?? []) items.push(parseDevice(item, table));
    startKey = out.LastEvaluatedKey ? DeviceKey.parse(out.LastEvaluatedKey) : undefined;
  } while (startKey && items.length < query.limit);
  return { items, lastKey: startKey };
}

function devicePageCommand(
  table: string,
  query: { siteId?: string; status?: string; limit: number; startKey?: DeviceKey },
) {
  const filter = query.status
    ? {
        FilterExpression: 'lastStatus = :status',
        ExpressionAttributeValues: { ':status': query.status },
      }
    : {};
  const page = { TableName: table, Limit: query.limit, ExclusiveStartKey: query.startKey };
  if (!query.siteId) return new ScanCommand({ ...page, ...filter });
  return new QueryCommand({
    ...page,
    IndexName: TABLES.devices.indexes[0].indexName,
    KeyConditionExpression: 'siteId = :siteId',
    FilterExpression: filter.FilterExpression,
    ExpressionAttributeValues: { ...filter.ExpressionAttributeValues, ':siteId': query.siteId },
  });
}

/** Every device, of one site or of all sites, following pages to the end. */
export async function listAllDevices(
  doc: DynamoDBDocumentClient,
  env: CloudEnv,
  siteId?: string,
): Promise<DeviceItem[]> {
  const devices: DeviceItem[] = [];
  let startKey: DeviceKey | undefined;
  do {
    const page = await listDevicesPage(doc, env, { siteId, limit: 1000, startKey });
    devices.push(...page.items);
    startKey = page.lastKey;
  } while (startKey);
  return devices;
}

/** The devices with these ids that exist (BatchGetItem, 100 keys per call, retried). */
export async function getDevices(
  doc: DynamoDBDocumentClient,
  env: CloudEnv,
  deviceIds: readonly string[],
): Promise<DeviceItem[]> {
  const table = tableName(env.WINFLEET_PREFIX, 'devices');
  const found: DeviceItem[] = [];
  for (let start = 0; start < deviceIds.length; start += MAX_KEYS_PER_GET) {
    const keys = deviceIds.slice(start, start + MAX_KEYS_PER_GET).map((deviceId) => ({ deviceId }));
    for (const item of await getChunk(doc, table, keys)) found.push(parseDevice(item, table));
  }
  return found;
}

async function getChunk(
  doc: DynamoDBDocumentClient,
  table: string,
  keys: Record<string, unknown>[],
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let pending = keys;
  for (let attempt = 0; attempt < MAX_GET_ATTEMPTS; attempt++) {
    const out = await doc.send(
      new BatchGetCommand({ RequestItems: { [table]: { Keys: pending } } }),
    );
    items.push(...(out.Responses?.[table] ?? []));
    pending = out.UnprocessedKeys?.[table]?.Keys ?? [];
    if (pending.length === 0) return items;
    await backoff(attempt);
  }
  throw new Error(
    `${pending.length} keys of ${table} still unprocessed after ${MAX_GET_ATTEMPTS} attempts`,
  );
}

function parseDevice(item: Record<string, unknown>, table: string): DeviceItem {
  return parseItem(DeviceItem, item, table, String(item.deviceId));
}

/** Registers or replaces one device, keeping what connectors last saw of it. */
export async function putDevice(
  doc: DynamoDBDocumentClient,
  env: CloudEnv,
  device: Device,
): Promise<void> {
  await doc.send(
    new UpdateCommand({
      TableName: tableName(env.WINFLEET_PREFIX, 'devices'),
      Key: { deviceId: device.deviceId },
      ...setExpression(device, ['deviceId']),
    }),
  );
}

/** Devices written at once by `upsertDevices`. */
const UPSERT_CONCURRENCY = 16;

/**
 * Registers or replaces each device with UpdateItem (as `putDevice`, keeping what connectors
 * last saw), and counts which were new. Not atomic as a whole: a failure part way leaves the
 * devices written so far, and importing the same devices again is harmless.
 */
export async function upsertDevices(
  doc: DynamoDBDocumentClient,
  env: CloudEnv,
  devices: readonly Device[],
): Promise<{ created: number; updated: number }> {
  const table = tableName(env.WINFLEET_PREFIX, 'devices');
  const counts = { created: 0, updated: 0 };
  let next = 0;
  const worker = async () => {
    for (let device = devices[next++]; device; device = devices[next++]) {
      const out = await doc.send(
        new UpdateCommand({
          TableName: table,
          Key: { deviceId: device.deviceId },
          ...setExpression(device, ['deviceId']),
          // Old values come back only for attributes that existed, so only for a known device.
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      if (out.Attributes && Object.keys(out.Attributes).length > 0) counts.updated += 1;
      else counts.created += 1;
    }
  };
  await Promise.all(Array.from({ length: UPSERT_CONCURRENCY }, worker));
  return counts;
}
