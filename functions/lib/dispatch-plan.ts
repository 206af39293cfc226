import { gunzipSync, gzipSync } from 'node:zlib';
import {
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { CloudEnv } from '../../shared/config.ts';
import { expiresAtSeconds, RESULT_RETENTION_DAYS } from '../../shared/items.ts';
import { DISPATCH_KEY, PLAN_KEY_PREFIX } from '../../shared/result-batches.ts';
import { BatchDevice, SiteId } from '../../shared/schemas/index.ts';
import { tableName } from '../../shared/tables.ts';

/**
 * An operation's dispatch plan, frozen when the operation is created: which devices go in
 * which batch. A dispatch (and every retry of it) sends exactly these batches, so a device
 * added or changed meanwhile cannot move devices between batches. Stored gzip-compressed in
 * `plan#<n>` items of the results table, each well under DynamoDB's 400 KB.
 */
export const PlanBatch = z.object({
  batchId: z.string(),
  siteId: SiteId,
  devices: z.array(BatchDevice),
});
export type PlanBatch = z.infer<typeof PlanBatch>;

type PlanBatchInput = { batchId: string; siteId: string; devices: readonly BatchDevice[] };

/** Compressed plan bytes per item at most. */
const MAX_CHUNK_BYTES = 300 * 1024;

function resultsTable(env: CloudEnv): string {
  return tableName(env.WINFLEET_PREFIX, 'results');
}

/** Writes the plan's items; batches keep their order across items. */
export async function putDispatchPlan(
  doc: DynamoDBDocumentClient,
  env: CloudEnv,
  operationId: string,
  batches: readonly PlanBatchInput[],
): Promise<void> {
  const chunks = chunkPlan(
    batches.map(({ batchId, siteId, devices }) => ({ batchId, siteId, devices })),
  );
  const expiresAt = expiresAtSeconds(RESULT_RETENTION_DAYS);
  for (const [i, plan] of chunks.entries()) {
    await doc.send(
      new PutCommand({
        TableName: resultsTable(env),
        Item: { operationId, itemKey: planKey(i), plan, expiresAt },
      }),
    );
  }
}

function planKey(index: number): string {
  return `${PLAN_KEY_PREFIX}${String(index).padStart(5, '0')}`;
}

/** Compressed chunks of the plan, halved until each fits an item. */
function chunkPlan(batches: readonly PlanBatchInput[]): Uint8Array[] {
  const encoded = gzipSync(JSON.stringify(batches));
  if (encoded.byteLength <= MAX_CHUNK_BYTES || batches.length <= 1) return [encoded];
  const half = Math.ceil(batches.length / 2);
  return [...chunkPlan(batches.slice(0, half)), ...chunkPlan(batches.slice(half))];
}

const PlanItem = z.object({ plan: z.instanceof(Uint8Array) });

/** The plan's batches in order; empty when the operation has none. */
export async function readDispatchPlan(
  doc: DynamoDBDocumentClient,
  env: CloudEnv,
  operationId: string,
): Promise<PlanBatch[]> {
  const batches: PlanBatch[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(
      new QueryCommand({
        TableName: resultsTable(env),
        KeyConditionExpression: 'operationId = :id AND begins_with(itemKey, :plan)',
        ExpressionAttributeValues: { ':id': operationId, ':plan': PLAN_KEY_PREFIX },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of out.Items ?? []) {
      const { plan } = PlanItem.parse(item);
      batches.push(...z.array(PlanBatch).parse(JSON.parse(gunzipSync(plan).toString('utf8'))));
    }
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return batches;
}

const DispatchRecord = z.object({
  attempts: z.number().int(),
  sent: z.set(z.string()).optional(),
  abandoned: z.set(z.string()).optional(),
});

/**
 * Counts one more dispatch attempt; returns the attempts so far and the batches done with:
 * sent, or abandoned (given up on, their devices closed with Failed results).
 */
export async function startDispatchAttempt(
  doc: DynamoDBDocumentClient,
  env: CloudEnv,
  operationId: string,
): Promise<{ attempts: number; sent: ReadonlySet<string>; abandoned: ReadonlySet<string> }> {
  const out = await doc.send(
    new UpdateCommand({
      TableName: resultsTable(env),
      Key: { operationId, itemKey: DISPATCH_KEY },
      UpdateExpression: 'ADD attempts :one SET expiresAt = if_not_exists(expiresAt, :expiresAt)',
      ExpressionAttributeValues: {
        ':one': 1,
        ':expiresAt': expiresAtSeconds(RESULT_RETENTION_DAYS),
      },
      ReturnValues: 'ALL_NEW',
    }),
  );
  const record = DispatchRecord.parse(out.Attributes);
  return {
    attempts: record.attempts,
    sent: record.sent ?? new Set(),
    abandoned: record.abandoned ?? new Set(),
  };
}

/** Records batches that SQS accepted, so that a retried dispatch skips them. */
export function recordSentBatches(
  doc: DynamoDBDocumentClient,
  env: CloudEnv,
  operationId: string,
  batchIds: readonly string[],
): Promise<void> {
  return addToDispatchRecord(doc, env, operationId, 'sent', batchIds);
}

/** Records batches given up on, so that no later dispatch sends them after their results. */
export function recordAbandonedBatches(
  doc: DynamoDBDocumentClient,
  env: CloudEnv,
  operationId: string,
  batchIds: readonly string[],
): Promise<void> {
  return addToDispatchRecord(doc, env, operationId, 'abandoned', batchIds);
}

async function addToDispatchRecord(
  doc: DynamoDBDocumentClient,
  env: CloudEnv,
  operationId: string,
  set: 'sent' | 'abandoned',
  batchIds: readonly string[],
): Promise<void> {
  if (batchIds.length === 0) return;
  await doc.send(
    new UpdateCommand({
      TableName: resultsTable(env),
      Key: { operationId, itemKey: DISPATCH_KEY },
      UpdateExpression: `ADD ${set} :ids`,
      ExpressionAttributeValues: { ':ids': new Set(batchIds) },
    }),
  );
}
