import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { CloudEnv } from '../../shared/config.ts';
import { expiresAtSeconds, OPERATION_LIST_KEY, RESULT_RETENTION_DAYS } from '../../shared/items.ts';
import { Operation, OperationId, type OperationStatus } from '../../shared/schemas/index.ts';
import { TABLES, tableName } from '../../shared/tables.ts';
import { parseItem } from './items.ts';

function operationsTable(env: CloudEnv): string {
  return tableName(env.WINFLEET_PREFIX, 'operations');
}

/** Writes a new operation; fails if one with its id exists. */
export async function putOperation(
  doc: DynamoDBDocumentClient,
  env: CloudEnv,
  operation: Operation,
): Promise<void> {
  await doc.send(
    new PutCommand({
      TableName: operationsTable(env),
      Item: {
        ...operation,
        listKey: OPERATION_LIST_KEY,
        expiresAt: expiresAtSeconds(RESULT_RETENTION_DAYS, Date.parse(operation.createdAt)),
      },
      ConditionExpression: 'attribute_not_exists(operationId)',
    }),
  );
}

/** The operation with this id, or undefined. */
export async function getOperation(
  doc: DynamoDBDocumentClient,
  env: CloudEnv,
  operationId: string,
): Promise<Operation | undefined> {
  const table = operationsTable(env);
  const out = await doc.send(
    new GetCommand({ TableName: table, Key: { operationId }, ConsistentRead: true }),
  );
  return out.Item ? parseItem(Operation, out.Item, table, operationId) : undefined;
}

/**
 * Moves an operation from `from` to `to`. Returns false when it was no longer in `from`: a
 * connector may have finished it (or someone cancelled it) in the meantime, and that wins.
 */
export async function transitionOperation(
  doc: DynamoDBDocumentClient,
  env: CloudEnv,
  change: { operationId: string; from: OperationStatus; to: OperationStatus; now: string },
): Promise<boolean> {
  try {
    await doc.send(
      new UpdateCommand({
        TableName: operationsTable(env),
        Key: { operationId: change.operationId },
        UpdateExpression: 'SET #status = :to, updatedAt = :now',
        ConditionExpression: '#status = :from',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':to': change.to, ':from': change.from, ':now': change.now },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** The start key of a page of the newest-first operation list, as kept in a cursor. */
export const OperationListKey = z.strictObject({
  operationId: OperationId,
  listKey: z.literal(OPERATION_LIST_KEY),
  createdAt: z.string().min(1),
});
export type OperationListKey = z.infer<typeof OperationListKey>;

/** One page of operations, newest first (the byCreatedAt index). */
export async function listOperationsPage(
  doc: DynamoDBDocumentClient,
  env: CloudEnv,
  query: { limit: number; startKey?: OperationListKey },
): Promise<{ items: Operation[]; lastKey?: OperationListKey }> {
  const table = operationsTable(env);
  const out = await doc.send(
    new QueryCommand({
      TableName: table,
      IndexName: TABLES.operations.indexes[0].indexName,
      KeyConditionExpression: 'listKey = :listKey',
      ExpressionAttributeValues: { ':listKey': OPERATION_LIST_KEY },
      ScanIndexForward: false,
      Limit: query.limit,
      ExclusiveStartKey: query.startKey,
    }),
  );
  return {
    items: (out.Items ?? []).map((item) =>
      parseItem(Operation, item, table, String(item.operationId)),
    ),
    lastKey: out.LastEvaluatedKey ? OperationListKey.parse(out.LastEvaluatedKey) : undefined,
  };
}

/**
 * Marks an operation Cancelled if it is still Pending or InProgress. Returns false when it had
 * already ended. Connectors read the status before running each batch.
 */
export async function cancelOperation(
  doc: DynamoDBDocumentClient,
  env: CloudEnv,
  operationId: string,
  now: string,
): Promise<boolean> {
  try {
    await doc.send(
      new UpdateCommand({
        TableName: operationsTable(env),
        Key: { operationId },
        UpdateExpression: 'SET #status = :cancelled, updatedAt = :now, finishedAt = :now',
        ConditionExpression: '#status IN (:pending, :inProgress)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':cancelled': 'Cancelled',
          ':pending': 'Pending',
          ':inProgress': 'InProgress',
          ':now': now,
        },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/**
 * Records what went wrong with an operation as a whole (batches that could not be queued) and,
 * if it is still Pending, moves it to `status`.
 */
export async function recordOperationError(
  doc: DynamoDBDocumentClient,
  env: CloudEnv,
  change: { operationId: string; error: string; status: OperationStatus; now: string },
): Promise<void> {
  await doc.send(
    new UpdateCommand({
      TableName: operationsTable(env),
      Key: { operationId: change.operationId },
      UpdateExpression: 'SET #error = :error, updatedAt = :now',
      ConditionExpression: 'attribute_exists(operationId)',
      ExpressionAttributeNames: { '#error': 'error' },
      ExpressionAttributeValues: { ':error': change.error, ':now': change.now },
    }),
  );
  await transitionOperation(doc, env, { ...change, from: 'Pending', to: change.status });
}

/**
 * Closes an operation with its final status and counts, if it is still Pending or InProgress
 * (a cancel, or a connector that closed it first, wins). Returns whether it closed it.
 */
export async function finishOperation(
  doc: DynamoDBDocumentClient,
  env: CloudEnv,
  change: {
    operationId: string;
    status: OperationStatus;
    counts: Record<string, number>;
    done: number;
    now: string;
  },
): Promise<boolean> {
  try {
    await doc.send(
      new UpdateCommand({
        TableName: operationsTable(env),
        Key: { operationId: change.operationId },
        UpdateExpression:
          'SET #status = :status, finishedAt = :now, updatedAt = :now, counts = :counts, done = :done',
        ConditionExpression: '#status IN (:pending, :inProgress)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':status': change.status,
          ':now': change.now,
          ':counts': change.counts,
          ':done': change.done,
          ':pending': 'Pending',
          ':inProgress': 'InProgress',
        },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}
