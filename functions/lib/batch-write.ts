import {
  BatchWriteCommand,
  type BatchWriteCommandInput,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { backoff } from './items.ts';

/** BatchWriteItem's limit on requests per call. */
const MAX_WRITES_PER_CALL = 25;
const MAX_ATTEMPTS = 8;

type WriteRequest = NonNullable<BatchWriteCommandInput['RequestItems']>[string][number];

/**
 * Puts every item into `table` with BatchWriteItem, 25 per call, retrying unprocessed items
 * with back-off. Throws when some are still unprocessed after the last attempt.
 */
export async function putAll(
  doc: DynamoDBDocumentClient,
  table: string,
  items: readonly Record<string, unknown>[],
): Promise<void> {
  for (let start = 0; start < items.length; start += MAX_WRITES_PER_CALL) {
    const chunk = items.slice(start, start + MAX_WRITES_PER_CALL);
    await writeChunk(
      doc,
      table,
      chunk.map((Item) => ({ PutRequest: { Item } })),
    );
  }
}

async function writeChunk(doc: DynamoDBDocumentClient, table: string, requests: WriteRequest[]) {
  let pending = requests;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
    const unprocessed = out.UnprocessedItems?.[table] ?? [];
    if (unprocessed.length === 0) return;
    pending = unprocessed;
    await backoff(attempt);
  }
  throw new Error(
    `${pending.length} writes to ${table} still unprocessed after ${MAX_ATTEMPTS} attempts`,
  );
}
