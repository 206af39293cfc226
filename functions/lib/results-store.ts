import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { CloudEnv } from '../../shared/config.ts';
import { getDeviceDetails, listResultBatchesPage } from '../../shared/result-batch-store.ts';
import {
  BATCH_KEY_PREFIX,
  batchKey,
  type CompactResult,
  expandEntry,
  type ResultBatch,
} from '../../shared/result-batches.ts';
import type { DeviceResult, FinalDeviceState } from '../../shared/schemas/index.ts';

/**
 * Where a page of results ends, as kept in a cursor: the batch item and the last device of it
 * that the page returned (results are stored one item per batch, shared/result-batches.ts).
 */
export const ResultKey = z.strictObject({
  operationId: z.string().min(1),
  itemKey: z.string().startsWith(BATCH_KEY_PREFIX),
  deviceId: z.string().min(1),
});
export type ResultKey = z.infer<typeof ResultKey>;

export interface ResultPage {
  items: DeviceResult[];
  lastKey?: ResultKey;
}

/** Batch items read per Query: each holds up to a batch's devices. */
const BATCHES_PER_QUERY = 5;

/**
 * Up to `limit` results of an operation, batch by batch and in device order within a batch,
 * optionally only those in `status`. Outputs kept in their own items are read for the page.
 */
export async function listResultsPage(
  doc: DynamoDBDocumentClient,
  env: CloudEnv,
  query: { operationId: string; status?: FinalDeviceState; limit: number; startKey?: ResultKey },
): Promise<ResultPage> {
  const picked: { batch: ResultBatch; entry: CompactResult }[] = [];
  let fromBatchKey = query.startKey?.itemKey;
  let afterDevice = query.startKey?.deviceId;
  let more = true;
  while (more && picked.length < query.limit) {
    const page = await listResultBatchesPage(doc, env.WINFLEET_PREFIX, {
      operationId: query.operationId,
      fromBatchKey,
      limit: BATCHES_PER_QUERY,
    });
    for (const batch of page.batches) {
      const isStart = batchKey(batch.batchId) === fromBatchKey;
      const skipUpTo = isStart ? afterDevice : undefined;
      if (isStart && skipUpTo === undefined) continue;
      for (const entry of sortedEntries(batch, query.status, skipUpTo)) {
        if (picked.length < query.limit) picked.push({ batch, entry });
      }
    }
    more = page.more;
    fromBatchKey = page.lastBatchKey;
    afterDevice = undefined;
  }
  const items = await expand(doc, env, query.operationId, picked);
  return { items, lastKey: picked.length >= query.limit ? lastKey(picked) : undefined };
}

function sortedEntries(batch: ResultBatch, status?: FinalDeviceState, after?: string) {
  return batch.entries
    .filter((e) => (status === undefined || e.s === status) && (after === undefined || e.d > after))
    .sort((a, b) => (a.d < b.d ? -1 : a.d > b.d ? 1 : 0));
}

async function expand(
  doc: DynamoDBDocumentClient,
  env: CloudEnv,
  operationId: string,
  picked: readonly { batch: ResultBatch; entry: CompactResult }[],
): Promise<DeviceResult[]> {
  const withDetail = picked.filter(({ entry }) => entry.dt).map(({ entry }) => entry.d);
  const details = await getDeviceDetails(doc, env.WINFLEET_PREFIX, operationId, withDetail);
  return picked.map(({ batch, entry }) => expandEntry(batch, entry, details.get(entry.d)));
}

/**
 * The cursor after a full page's last result. A page that ended exactly at the end of the
 * results still gets one: the next page is then empty.
 */
function lastKey(picked: readonly { batch: ResultBatch; entry: CompactResult }[]) {
  const last = picked.at(-1);
  if (!last) return undefined;
  return {
    operationId: last.batch.operationId,
    itemKey: batchKey(last.batch.batchId),
    deviceId: last.entry.d,
  };
}
