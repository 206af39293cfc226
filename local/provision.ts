import {
  CreateTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { QUEUE_SETTINGS, siteDeadLetterQueueName, siteQueueName } from '../shared/queues.ts';
import { TABLES, type TableDefinition, tableName } from '../shared/tables.ts';

/**
 * Creates every table of `shared/tables.ts` that does not exist yet, with the same keys and
 * indexes CDK deploys. TTL is not set: dynalite does not implement UpdateTimeToLive.
 */
export async function createTables(client: DynamoDBClient, prefix: string): Promise<void> {
  for (const [key, table] of Object.entries(TABLES)) {
    const name = tableName(prefix, key as keyof typeof TABLES);
    try {
      await client.send(new CreateTableCommand(tableInput(name, table)));
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }
}

function tableInput(name: string, table: TableDefinition) {
  const keyNames = new Set([table.partitionKey, table.sortKey]);
  for (const index of table.indexes) keyNames.add(index.partitionKey).add(index.sortKey);
  keyNames.delete(undefined);
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [...keyNames].map((n) => ({
      AttributeName: n as string,
      AttributeType: 'S' as const,
    })),
    KeySchema: keySchema(table.partitionKey, table.sortKey),
    GlobalSecondaryIndexes: table.indexes.length
      ? table.indexes.map((index) => ({
          IndexName: index.indexName,
          KeySchema: keySchema(index.partitionKey, index.sortKey),
          Projection: { ProjectionType: 'ALL' as const },
        }))
      : undefined,
  };
}

function keySchema(partitionKey: string, sortKey?: string) {
  const schema = [{ AttributeName: partitionKey, KeyType: 'HASH' as const }];
  if (sortKey) schema.push({ AttributeName: sortKey, KeyType: 'RANGE' as 'HASH' });
  return schema;
}

/** Creates a site's queue and its dead-letter queue (with the redrive policy); returns the URL. */
export async function createSiteQueue(
  client: SQSClient,
  prefix: string,
  siteId: string,
): Promise<string> {
  const dlq = await client.send(
    new CreateQueueCommand({
      QueueName: siteDeadLetterQueueName(prefix, siteId),
      Attributes: { MessageRetentionPeriod: String(QUEUE_SETTINGS.deadLetterRetentionSeconds) },
    }),
  );
  const dlqAttributes = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const queue = await client.send(
    new CreateQueueCommand({
      QueueName: siteQueueName(prefix, siteId),
      Attributes: {
        VisibilityTimeout: String(QUEUE_SETTINGS.visibilityTimeoutSeconds),
        MessageRetentionPeriod: String(QUEUE_SETTINGS.messageRetentionSeconds),
        ReceiveMessageWaitTimeSeconds: String(QUEUE_SETTINGS.receiveWaitTimeSeconds),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqAttributes.Attributes?.QueueArn,
          maxReceiveCount: QUEUE_SETTINGS.maxReceiveCount,
        }),
      },
    }),
  );
  if (!queue.QueueUrl) throw new Error(`CreateQueue for site ${siteId} returned no queue URL`);
  return queue.QueueUrl;
}
