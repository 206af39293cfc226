import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';

/**
 * Counts what AWS clients cost: requests per API, the capacity DynamoDB reports it consumed
 * (every DynamoDB request asks for `ReturnConsumedCapacity: 'TOTAL'`; an emulator may not
 * answer), write units computed from the items written (1 per KiB per item, rounded up, as
 * on-demand tables bill them), and SQS requests as billed (each 64 KiB of payload counts as
 * one request).
 */
export class RequestStats {
  /** API calls by `<service>.<operation>`. */
  readonly calls = new Map<string, number>();
  /** Capacity DynamoDB reported; zero when it reported none. */
  consumedWriteUnits = 0;
  consumedReadUnits = 0;
  /** Write units computed from item sizes (see `itemSizeBytes`). */
  computedWriteUnits = 0;
  /** SQS requests as billed. */
  sqsBilledRequests = 0;

  count(name: string): void {
    this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
  }

  /** API calls of one service. */
  callsOf(service: 'DynamoDB' | 'SQS'): number {
    let n = 0;
    for (const [name, count] of this.calls) if (name.startsWith(`${service}.`)) n += count;
    return n;
  }

  /** A plain summary for logs and reports. */
  summary() {
    return {
      dynamodbCalls: this.callsOf('DynamoDB'),
      sqsCalls: this.callsOf('SQS'),
      sqsBilledRequests: this.sqsBilledRequests,
      computedWriteUnits: this.computedWriteUnits,
      consumedWriteUnits: round(this.consumedWriteUnits),
      consumedReadUnits: round(this.consumedReadUnits),
      calls: Object.fromEntries([...this.calls].sort(([a], [b]) => a.localeCompare(b))),
    };
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** Counts a DynamoDB client's requests (or a document client's: they share one stack). */
export function countDynamoDbRequests(
  client: Pick<DynamoDBClient, 'middlewareStack'>,
  stats: RequestStats,
) {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      input.ReturnConsumedCapacity ??= 'TOTAL';
      stats.count(`DynamoDB.${operationName(context)}`);
      stats.computedWriteUnits += writeUnitsOf(operationName(context), input);
      const result = await next(args);
      addConsumed(stats, (result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity);
      return result;
    },
    // By the build step a document client's input is marshalled into attribute values.
    { step: 'build', name: 'winfleetRequestStats', override: true },
  );
}

/** Counts an SQS client's requests and what SQS bills for them. */
export function countSqsRequests(client: Pick<SQSClient, 'middlewareStack'>, stats: RequestStats) {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = operationName(context);
      stats.count(`SQS.${name}`);
      const result = await next(args);
      stats.sqsBilledRequests += billedSqsRequests(args.input, result.output);
      return result;
    },
    { step: 'initialize', name: 'winfleetRequestStats', override: true },
  );
}

function operationName(context: { commandName?: string }): string {
  return (context.commandName ?? 'Unknown').replace(/Command$/, '');
}

const CHUNK_BYTES = 64 * 1024;

/** SQS bills each 64 KiB chunk of a request's payload as one request. */
function billedSqsRequests(input: unknown, output: unknown): number {
  const bodies: string[] = [];
  const entries = (input as { Entries?: { MessageBody?: string }[] }).Entries ?? [];
  for (const entry of entries) if (entry.MessageBody) bodies.push(entry.MessageBody);
  const single = (input as { MessageBody?: string }).MessageBody;
  if (single) bodies.push(single);
  for (const message of (output as { Messages?: { Body?: string }[] }).Messages ?? []) {
    if (message.Body) bodies.push(message.Body);
  }
  const bytes = bodies.reduce((sum, body) => sum + Buffer.byteLength(body, 'utf8'), 0);
  return Math.max(1, Math.ceil(bytes / CHUNK_BYTES));
}

function addConsumed(stats: RequestStats, consumed: unknown): void {
  const list = Array.isArray(consumed) ? consumed : consumed ? [consumed] : [];
  for (const entry of list as { WriteCapacityUnits?: number; ReadCapacityUnits?: number }[]) {
    stats.consumedWriteUnits += entry.WriteCapacityUnits ?? 0;
    stats.consumedReadUnits += entry.ReadCapacityUnits ?? 0;
  }
}

type Item = Record<string, AttributeValue>;

/**
 * Write units a request costs on an on-demand table: 1 per KiB of each item written, rounded
 * up. For UpdateItem the item's size is not in the request; it is estimated from its key and
 * values, which is exact for the small items this project updates (devices, operations).
 */
export function writeUnitsOf(operation: string, input: Record<string, unknown>): number {
  switch (operation) {
    case 'PutItem':
      return units(itemSizeBytes(input.Item as Item));
    case 'UpdateItem': {
      const values = (input.ExpressionAttributeValues ?? {}) as Item;
      return units(itemSizeBytes(input.Key as Item) + itemSizeBytes(values));
    }
    case 'DeleteItem':
      return 1;
    case 'BatchWriteItem':
      return batchWriteUnits(input.RequestItems as Record<string, Record<string, unknown>[]>);
    default:
      return 0;
  }
}

function batchWriteUnits(requests: Record<string, Record<string, unknown>[]>): number {
  let total = 0;
  for (const writes of Object.values(requests ?? {})) {
    for (const write of writes) {
      const put = write.PutRequest as { Item: Item } | undefined;
      total += put ? units(itemSizeBytes(put.Item)) : 1;
    }
  }
  return total;
}

function units(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 1024));
}

/** An item's size as DynamoDB counts it: names plus values, with list and map overheads. */
export function itemSizeBytes(item: Item | undefined): number {
  let size = 0;
  for (const [name, value] of Object.entries(item ?? {})) {
    size += Buffer.byteLength(name, 'utf8') + valueSizeBytes(value);
  }
  return size;
}

function valueSizeBytes(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S, 'utf8');
  if (value.N !== undefined) return numberSizeBytes(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS) return value.SS.reduce((n, s) => n + Buffer.byteLength(s, 'utf8'), 0);
  if (value.NS) return value.NS.reduce((n, s) => n + numberSizeBytes(s), 0);
  if (value.BS) return value.BS.reduce((n, b) => n + b.byteLength, 0);
  if (value.L) return 3 + value.L.reduce((n, v) => n + 1 + valueSizeBytes(v), 0);
  if (value.M) return 3 + itemSizeBytes(value.M) + Object.keys(value.M).length;
  return 0;
}

/** Numbers take one byte per two significant digits plus one. */
function numberSizeBytes(text: string): number {
  const digits = text
    .replace(/^-/, '')
    .replace(/[.eE].*$/, '')
    .replace(/^0+/, '').length;
  return Math.ceil(Math.max(1, digits) / 2) + 1;
}
