import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { CloudEnv } from '../../shared/config.ts';
import { expiresAtSeconds, OPERATION_LIST_KEY, RESULT_RETENTION_DAYS } from '../../shared/items.ts';
import { Operation, type OperationStatus } from '../../shared/schemas/index.ts';
import { tableName } from '../../shared/tables.ts';
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
