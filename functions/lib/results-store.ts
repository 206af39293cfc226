import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { CloudEnv } from '../../shared/config.ts';
import { DeviceResult, type FinalDeviceState } from '../../shared/schemas/index.ts';
import { tableName } from '../../shared/tables.ts';
import { parseItem } from './items.ts';

/** The start key of a page of results, as kept in a cursor. */
export const ResultKey = z.strictObject({
  operationId: z.string().min(1),
  deviceId: z.string().min(1),
});
export type ResultKey = z.infer<typeof ResultKey>;

export interface ResultPage {
  items: DeviceResult[];
  lastKey?: ResultKey;
}

/**
 * Up to `limit` results of an operation in device order, optionally only those in `status`.
 * With a filter DynamoDB may read pages that match nothing, so pages are followed until the
 * limit is reached or the results end.
 */
export async function listResultsPage(
  doc: DynamoDBDocumentClient,
  env: CloudEnv,
  query: { operationId: string; status?: FinalDeviceState; limit: number; startKey?: ResultKey },
): Promise<ResultPage> {
  const table = tableName(env.WINFLEET_PREFIX, 'results');
  const items: DeviceResult[] = [];
  let startKey = query.startKey;
  do {
    const out = await doc.send(
      new QueryCommand({
        ...resultQuery(table, query),
        Limit: query.limit - items.length,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of out.Items ?? []) {
      items.push(
        parseItem(DeviceResult, item, table, `${query.operationId}/${String(item.deviceId)}`),
      );
    }
    startKey = out.LastEvaluatedKey ? ResultKey.parse(out.LastEvaluatedKey) : undefined;
  } while (startKey && items.length < query.limit);
  return { items, lastKey: startKey };
}

function resultQuery(table: string, query: { operationId: string; status?: FinalDeviceState }) {
  const values: Record<string, string> = { ':operationId': query.operationId };
  if (query.status) values[':status'] = query.status;
  return {
    TableName: table,
    KeyConditionExpression: 'operationId = :operationId',
    FilterExpression: query.status ? '#status = :status' : undefined,
    ExpressionAttributeNames: query.status ? { '#status': 'status' } : undefined,
    ExpressionAttributeValues: values,
  };
}
