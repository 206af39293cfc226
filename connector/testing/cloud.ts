import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { type Emulator, startDynamoDb, startSqs } from '../../local/emulators.ts';
import { createSiteQueue, createTables } from '../../local/provision.ts';
import { createDocumentClient, createSqsClient } from '../../shared/aws.ts';
import { OPERATION_LIST_KEY } from '../../shared/items.ts';
import type { OperationType } from '../../shared/schemas/operation.ts';
import { tableName } from '../../shared/tables.ts';

/** Real emulators for a test file: dynalite and fauxqs on loopback, provisioned. */
export interface TestCloud {
  prefix: string;
  dynamodb: Emulator;
  sqs: Emulator;
  documents: DynamoDBDocumentClient;
  sqsClient: SQSClient;
  stop(): Promise<void>;
}

export async function startTestCloud(prefix = 'test-'): Promise<TestCloud> {
  const [dynamodb, sqs] = await Promise.all([startDynamoDb(), startSqs()]);
  const env = {
    WINFLEET_PREFIX: prefix,
    AWS_REGION: 'us-east-1',
    WINFLEET_DYNAMODB_ENDPOINT: dynamodb.endpoint,
    WINFLEET_SQS_ENDPOINT: sqs.endpoint,
  };
  const documents = createDocumentClient(env);
  const sqsClient = createSqsClient(env);
  const tables = new DynamoDBClient({
    region: env.AWS_REGION,
    endpoint: dynamodb.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await createTables(tables, prefix);
  tables.destroy();
  return {
    prefix,
    dynamodb,
    sqs,
    documents,
    sqsClient,
    async stop() {
      documents.destroy();
      sqsClient.destroy();
      await Promise.all([dynamodb.stop(), sqs.stop()]);
    },
  };
}

/** Records an operation the way the control plane does, with empty counts. */
export async function putOperation(
  cloud: TestCloud,
  operationId: string,
  total: number,
  type: OperationType = 'status',
): Promise<void> {
  const now = new Date().toISOString();
  await cloud.documents.send(
    new PutCommand({
      TableName: tableName(cloud.prefix, 'operations'),
      Item: {
        operationId,
        listKey: OPERATION_LIST_KEY,
        type,
        status: 'Pending',
        targets: { all: true },
        total,
        done: 0,
        counts: {},
        siteIds: ['site-a'],
        batchCount: 1,
        createdAt: now,
        updatedAt: now,
        source: 'api',
      },
    }),
  );
}

export { createSiteQueue };
