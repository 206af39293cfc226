import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { TableKey } from '../shared/tables.ts';

/**
 * What a site's connector may do to each table, and how far IAM can confine it to its own site.
 *
 * `dynamodb:LeadingKeys` only sees the partition key. Of our tables only `sites` is keyed by
 * something site-scoped, so only there does it confine a connector to its own site's items.
 * `devices` and `metrics` are keyed by deviceId (the computer name) and `operations` and
 * `results` by operationId, none of which names a site: there a connector of site A could
 * still write a result, a counter or a metric for a device of site B if it knows the ids.
 * What we can enforce there is which attributes it writes (`dynamodb:Attributes`), so it can
 * never move a device to another address or site, rewrite an operation's request, or read
 * an item back through `ReturnValues`. DEPLOY.md proposes site-prefixed keys that close the
 * gap.
 */
export interface ConnectorTableAccess {
  actions: readonly string[];
  /** Partition keys must equal the site's id (`dynamodb:LeadingKeys`). */
  siteScopedKey: boolean;
  /** The only attributes a write may name; unset when the item shape belongs to the connector. */
  attributes?: readonly string[];
}

const READ = ['dynamodb:GetItem'];
/** Actions that only read, whichever table they are granted on. */
const READ_ACTIONS = [...READ, 'dynamodb:Query'];

export const CONNECTOR_TABLE_ACCESS: Record<TableKey, ConnectorTableAccess> = {
  // Connector health (shared/items.ts): its own site's item only.
  sites: {
    actions: [...READ, 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    siteScopedKey: true,
    attributes: ['siteId', 'connectorLastSeenAt', 'connectorVersion'],
  },
  // The cancellation flag it reads, and the outcome it records when it delivers the last
  // result; never the request itself.
  operations: {
    actions: [...READ, 'dynamodb:UpdateItem'],
    siteScopedKey: false,
    attributes: ['operationId', 'status', 'counts', 'done', 'updatedAt', 'finishedAt'],
  },
  // Last status only: the address, site and tags stay the API's.
  devices: {
    actions: ['dynamodb:UpdateItem'],
    siteScopedKey: false,
    attributes: ['deviceId', 'lastStatus', 'lastSeenAt'],
  },
  // One item per batch, merged under a version condition; Query sums an operation's batch
  // items for its progress (one operation's partition, never the table).
  results: {
    actions: [...READ, 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:BatchWriteItem'],
    siteScopedKey: false,
  },
  metrics: {
    actions: ['dynamodb:PutItem', 'dynamodb:BatchWriteItem'],
    siteScopedKey: false,
  },
};

/** What a connector does with its own queue; the queue of any other site is out of reach. */
export const CONNECTOR_QUEUE_ACTIONS = [
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:ChangeMessageVisibility',
  'sqs:GetQueueUrl',
  'sqs:GetQueueAttributes',
] as const;

/**
 * What a connector does with its own dead-letter queue: it finishes the batches found there
 * (each unrun device gets a Failed result) and deletes them; a message that is not a batch
 * stays for an operator. It never changes visibility there nor sends anywhere.
 */
export const CONNECTOR_DEAD_LETTER_ACTIONS = [
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:GetQueueUrl',
] as const;

/** The statements of one site's connector policy. */
export function connectorStatements(
  siteId: string,
  queues: { queueArn: string; deadLetterQueueArn: string },
  tableArns: Record<TableKey, string>,
): PolicyStatement[] {
  const queue = new PolicyStatement({
    sid: 'OwnQueue',
    actions: [...CONNECTOR_QUEUE_ACTIONS],
    resources: [queues.queueArn],
  });
  const deadLetterQueue = new PolicyStatement({
    sid: 'OwnDeadLetterQueue',
    actions: [...CONNECTOR_DEAD_LETTER_ACTIONS],
    resources: [queues.deadLetterQueueArn],
  });
  const tables = Object.entries(CONNECTOR_TABLE_ACCESS).flatMap(([key, access]) =>
    tableStatements(key as TableKey, access, siteId, tableArns[key as TableKey]),
  );
  return [queue, deadLetterQueue, ...tables];
}

function tableStatements(
  key: TableKey,
  access: ConnectorTableAccess,
  siteId: string,
  tableArn: string,
): PolicyStatement[] {
  const reads = access.actions.filter((action) => READ_ACTIONS.includes(action));
  const writes = access.actions.filter((action) => !READ_ACTIONS.includes(action));
  const statement = (sid: string, actions: string[], write: boolean) =>
    new PolicyStatement({
      sid: `${sid}${key.charAt(0).toUpperCase()}${key.slice(1)}`,
      actions,
      resources: [tableArn],
      conditions: tableConditions(access, siteId, write),
    });
  const statements = [statement('Write', writes, true)];
  if (reads.length > 0) statements.unshift(statement('Read', reads, false));
  return statements;
}

/**
 * `ForAllValues` is true when the request names no attributes at all, so the attribute list
 * is paired with a ban on `ReturnValues` that would read the whole item back.
 */
function tableConditions(access: ConnectorTableAccess, siteId: string, write: boolean) {
  const forAll: Record<string, string[]> = {};
  if (access.siteScopedKey) forAll['dynamodb:LeadingKeys'] = [siteId];
  const limitAttributes = write && access.attributes !== undefined;
  if (limitAttributes) forAll['dynamodb:Attributes'] = [...(access.attributes ?? [])];

  const conditions: Record<string, Record<string, string[]>> = {};
  if (Object.keys(forAll).length > 0) conditions['ForAllValues:StringEquals'] = forAll;
  if (limitAttributes) {
    conditions.StringEqualsIfExists = { 'dynamodb:ReturnValues': ['NONE', 'UPDATED_NEW'] };
  }
  return conditions;
}
