import { setTimeout as sleep } from 'node:timers/promises';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  type BatchWriteCommandInput,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { expiresAtSeconds, RESULT_RETENTION_DAYS } from './items.ts';
import {
  addCounts,
  BATCH_KEY_RANGE,
  batchKey,
  type CompactResult,
  compactResults,
  countEntries,
  type DeviceDetail,
  decodeEntries,
  deviceKey,
  encodeEntries,
  MAX_BATCH_BLOB_BYTES,
  mergeEntries,
  type ResultBatch,
  rebase,
  spillOutputs,
} from './result-batches.ts';
import type { DeviceResult } from './schemas/result.ts';
import { tableName } from './tables.ts';

/** Which batch a set of results belongs to. */
export interface ResultBatchRef {
  operationId: string;
  batchId: string;
  siteId: string;
}

/** What writing a batch's results did. */
export interface ResultBatchWrite {
  /** `written`: the item now holds devices it did not; `unchanged`: it already held them all. */
  outcome: 'written' | 'unchanged';
  /** Ids of the devices this write added to the batch item. */
  addedDeviceIds: string[];
  /** Every device the batch item holds now, their per-state counts, and the item's base time. */
  entries: CompactResult[];
  counts: Record<string, number>;
  baseTime: string;
}

/** Attempts at a conditional put while other writers change the same batch item. */
const MAX_MERGE_ATTEMPTS = 8;
const MAX_WRITES_PER_CALL = 25;
const MAX_DETAIL_ATTEMPTS = 6;

const StoredBatch = z.object({
  baseTime: z.string(),
  version: z.number().int(),
  entries: z.instanceof(Uint8Array),
});

/**
 * Records a batch's final results so that each device is counted exactly once, whatever is
 * repeated: large outputs go to `device#` items first, then the batch item is created, or, if
 * it exists, read, merged (a device already there keeps its result) and put back on the
 * condition that no one changed it meanwhile. A repeated delivery changes nothing; a partial
 * batch followed by the whole batch ends with the whole batch; two writers of one batch end
 * with the union of what they delivered.
 */
export async function putResultBatch(
  doc: DynamoDBDocumentClient,
  prefix: string,
  ref: ResultBatchRef,
  results: readonly DeviceResult[],
  signal?: AbortSignal,
): Promise<ResultBatchWrite> {
  if (results.length === 0) throw new Error(`no results to write for batch ${ref.batchId}`);
  const table = tableName(prefix, 'results');
  const baseMs = Math.min(...results.map((r) => Date.parse(r.startedAt)));
  let compacted = compactResults(results, baseMs);
  if (encodeEntries(compacted.entries).byteLength > MAX_BATCH_BLOB_BYTES) {
    compacted = spillOutputs(compacted, (e) => new Date(baseMs + e.f).toISOString());
  }
  await putDetails(doc, table, ref.operationId, compacted.details, signal);
  return mergeIntoBatch(doc, table, ref, { entries: compacted.entries, baseMs }, signal);
}

async function mergeIntoBatch(
  doc: DynamoDBDocumentClient,
  table: string,
  ref: ResultBatchRef,
  incoming: { entries: CompactResult[]; baseMs: number },
  signal?: AbortSignal,
): Promise<ResultBatchWrite> {
  let current = await tryCreate(doc, table, ref, incoming, signal);
  if (current === 'created') {
    const { entries, baseMs } = incoming;
    return written(entries, entries, baseMs);
  }
  for (let attempt = 1; attempt < MAX_MERGE_ATTEMPTS; attempt++) {
    const existingBaseMs = Date.parse(current.baseTime);
    const existing = decodeEntries(current.entries);
    const rebased = rebase(incoming.entries, incoming.baseMs, existingBaseMs);
    const merged = mergeEntries(existing, rebased);
    if (merged.added.length === 0) {
      return { ...written(merged.entries, [], existingBaseMs), outcome: 'unchanged' };
    }
    const item = batchItem(ref, merged.entries, existingBaseMs, current.version + 1);
    if (await putIfVersion(doc, table, item, current.version, signal)) {
      return written(merged.entries, merged.added, existingBaseMs);
    }
    current = await getBatch(doc, table, ref, signal);
  }
  throw new Error(
    `batch ${ref.batchId} of ${ref.operationId} kept changing under ${MAX_MERGE_ATTEMPTS} merges`,
  );
}

function written(
  entries: CompactResult[],
  added: readonly CompactResult[],
  baseMs: number,
): ResultBatchWrite {
  return {
    outcome: 'written',
    addedDeviceIds: added.map((entry) => entry.d),
    entries,
    counts: countEntries(entries),
    baseTime: new Date(baseMs).toISOString(),
  };
}

/** Puts the batch item if it does not exist yet; else returns the stored one. */
async function tryCreate(
  doc: DynamoDBDocumentClient,
  table: string,
  ref: ResultBatchRef,
  incoming: { entries: CompactResult[]; baseMs: number },
  signal?: AbortSignal,
): Promise<'created' | z.infer<typeof StoredBatch>> {
  try {
    await doc.send(
      new PutCommand({
        TableName: table,
        Item: batchItem(ref, incoming.entries, incoming.baseMs, 1),
        ConditionExpression: 'attribute_not_exists(itemKey)',
      }),
      { abortSignal: signal },
    );
    return 'created';
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
  return getBatch(doc, table, ref, signal);
}

async function putIfVersion(
  doc: DynamoDBDocumentClient,
  table: string,
  item: Record<string, unknown>,
  version: number,
  signal?: AbortSignal,
): Promise<boolean> {
  try {
    await doc.send(
      new PutCommand({
        TableName: table,
        Item: item,
        ConditionExpression: 'version = :version',
        ExpressionAttributeValues: { ':version': version },
      }),
      { abortSignal: signal },
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

async function getBatch(
  doc: DynamoDBDocumentClient,
  table: string,
  ref: ResultBatchRef,
  signal?: AbortSignal,
): Promise<z.infer<typeof StoredBatch>> {
  const out = await doc.send(
    new GetCommand({
      TableName: table,
      Key: { operationId: ref.operationId, itemKey: batchKey(ref.batchId) },
      ConsistentRead: true,
    }),
    { abortSignal: signal },
  );
  return StoredBatch.parse(out.Item);
}

function batchItem(
  ref: ResultBatchRef,
  entries: readonly CompactResult[],
  baseMs: number,
  version: number,
): Record<string, unknown> {
  return {
    operationId: ref.operationId,
    itemKey: batchKey(ref.batchId),
    batchId: ref.batchId,
    siteId: ref.siteId,
    baseTime: new Date(baseMs).toISOString(),
    version,
    done: entries.length,
    counts: countEntries(entries),
    entries: encodeEntries(entries),
    expiresAt: expiresAtSeconds(RESULT_RETENTION_DAYS),
  };
}

type WriteRequest = NonNullable<BatchWriteCommandInput['RequestItems']>[string][number];

/** Puts `device#` items, 25 per BatchWriteItem, retrying unprocessed ones with back-off. */
async function putDetails(
  doc: DynamoDBDocumentClient,
  table: string,
  operationId: string,
  details: readonly DeviceDetail[],
  signal?: AbortSignal,
): Promise<void> {
  const expiresAt = expiresAtSeconds(RESULT_RETENTION_DAYS);
  const requests: WriteRequest[] = details.map((detail) => ({
    PutRequest: {
      Item: { operationId, itemKey: deviceKey(detail.deviceId), ...detail, expiresAt },
    },
  }));
  for (let start = 0; start < requests.length; start += MAX_WRITES_PER_CALL) {
    let pending = requests.slice(start, start + MAX_WRITES_PER_CALL);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= MAX_DETAIL_ATTEMPTS) {
        throw new Error(`${pending.length} output items of ${operationId} left unprocessed`);
      }
      if (attempt > 0) await sleep(50 * 2 ** attempt, undefined, { signal });
      const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }), {
        abortSignal: signal,
      });
      pending = out.UnprocessedItems?.[table] ?? [];
    }
  }
}

/** An operation's progress as its batch items tell it. */
export interface BatchProgress {
  done: number;
  counts: Record<string, number>;
  /** Batch items written so far. */
  batches: number;
}

const BatchCounts = z.object({
  done: z.number().int(),
  counts: z.record(z.string(), z.number().int()),
});

/**
 * Sums the counts of every batch item of an operation (a Query of the batch key range that
 * projects only the counts). Exact by construction: each device is in one batch item once.
 */
export async function readBatchProgress(
  doc: DynamoDBDocumentClient,
  prefix: string,
  operationId: string,
  options: { consistent?: boolean; signal?: AbortSignal } = {},
): Promise<BatchProgress> {
  const progress: BatchProgress = { done: 0, counts: {}, batches: 0 };
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(
      new QueryCommand({
        TableName: tableName(prefix, 'results'),
        KeyConditionExpression: 'operationId = :id AND itemKey BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':id': operationId,
          ':from': BATCH_KEY_RANGE.from,
          ':to': BATCH_KEY_RANGE.to,
        },
        ProjectionExpression: 'done, counts',
        ConsistentRead: options.consistent ?? true,
        ExclusiveStartKey: startKey,
      }),
      { abortSignal: options.signal },
    );
    for (const item of out.Items ?? []) {
      const batch = BatchCounts.parse(item);
      progress.done += batch.done;
      progress.batches += 1;
      addCounts(progress.counts, batch.counts);
    }
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return progress;
}

const StoredResultBatch = z.object({
  operationId: z.string(),
  itemKey: z.string(),
  batchId: z.string(),
  siteId: z.string(),
  baseTime: z.string(),
  entries: z.instanceof(Uint8Array),
});

/** A page of an operation's batch items, decoded, in batch id order. */
export async function listResultBatchesPage(
  doc: DynamoDBDocumentClient,
  prefix: string,
  query: { operationId: string; fromBatchKey?: string; limit: number; signal?: AbortSignal },
): Promise<{ batches: ResultBatch[]; more: boolean; lastBatchKey?: string }> {
  const out = await doc.send(
    new QueryCommand({
      TableName: tableName(prefix, 'results'),
      KeyConditionExpression: 'operationId = :id AND itemKey BETWEEN :from AND :to',
      ExpressionAttributeValues: {
        ':id': query.operationId,
        ':from': query.fromBatchKey ?? BATCH_KEY_RANGE.from,
        ':to': BATCH_KEY_RANGE.to,
      },
      Limit: query.limit,
    }),
    { abortSignal: query.signal },
  );
  const batches = (out.Items ?? []).map((item) => {
    const stored = StoredResultBatch.parse(item);
    return { ...stored, entries: decodeEntries(stored.entries) };
  });
  const lastBatchKey = batches.length > 0 ? batchKey(batches.at(-1)?.batchId ?? '') : undefined;
  return { batches, more: out.LastEvaluatedKey !== undefined, lastBatchKey };
}

/** Every batch item of an operation, decoded. */
export async function readResultBatches(
  doc: DynamoDBDocumentClient,
  prefix: string,
  operationId: string,
): Promise<ResultBatch[]> {
  const all: ResultBatch[] = [];
  let fromBatchKey: string | undefined;
  for (;;) {
    const page = await listResultBatchesPage(doc, prefix, { operationId, fromBatchKey, limit: 50 });
    all.push(...page.batches.filter((b) => batchKey(b.batchId) !== fromBatchKey));
    if (!page.more || !page.lastBatchKey) return all;
    fromBatchKey = page.lastBatchKey;
  }
}

const StoredDetail = z.object({
  deviceId: z.string(),
  finishedAt: z.string(),
  stdout: z.string().optional(),
  stderr: z.string().optional(),
  output: z.unknown().optional(),
  stdoutChars: z.number().int().min(0).optional(),
  stderrChars: z.number().int().min(0).optional(),
});

/** The `device#` items of these devices that exist, by device id (BatchGetItem, 100 a call). */
export async function getDeviceDetails(
  doc: DynamoDBDocumentClient,
  prefix: string,
  operationId: string,
  deviceIds: readonly string[],
): Promise<Map<string, DeviceDetail>> {
  const table = tableName(prefix, 'results');
  const found = new Map<string, DeviceDetail>();
  for (let start = 0; start < deviceIds.length; start += 100) {
    let keys: Record<string, unknown>[] = deviceIds
      .slice(start, start + 100)
      .map((deviceId) => ({ operationId, itemKey: deviceKey(deviceId) }));
    for (let attempt = 0; keys.length > 0; attempt++) {
      if (attempt >= MAX_DETAIL_ATTEMPTS) throw new Error(`output items of ${operationId} unread`);
      if (attempt > 0) await sleep(50 * 2 ** attempt);
      const out = await doc.send(
        new BatchGetCommand({ RequestItems: { [table]: { Keys: keys } } }),
      );
      for (const item of out.Responses?.[table] ?? []) {
        const detail = StoredDetail.parse(item);
        found.set(detail.deviceId, detail);
      }
      keys = out.UnprocessedKeys?.[table]?.Keys ?? [];
    }
  }
  return found;
}
