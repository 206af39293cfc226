import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startDynamoDb, startSqs } from '../../local/emulators.ts';
import { createSiteQueue, createTables } from '../../local/provision.ts';
import { createDocumentClient, createSqsClient } from '../../shared/aws.ts';
import { countSqsRequests, RequestStats } from '../../shared/aws-stats.ts';
import type { CloudEnv } from '../../shared/config.ts';
import { createLogger } from '../../shared/logger.ts';
import { BatchMessage } from '../../shared/schemas/index.ts';
import { tableName } from '../../shared/tables.ts';
import { DispatchError } from '../errors.ts';
import { fleetOf, siteOf } from '../test/api-stack.ts';
import { createOperation } from './create-operation.ts';
import type { Deps } from './deps.ts';
import { putDevices } from './devices-store.ts';
import { dispatchOperation } from './dispatch-operation.ts';
import { settleDispatches } from './dispatch-trigger.ts';
import { getOperation } from './operations-store.ts';
import { putSites } from './sites-store.ts';

const logger = createLogger('test', { level: 'silent' });

describe('dispatching an operation', () => {
  let dynamo: Emulator;
  let sqsEmulator: Emulator;
  let deps: Deps;

  beforeAll(async () => {
    [dynamo, sqsEmulator] = await Promise.all([startDynamoDb(), startSqs()]);
    const env: CloudEnv = {
      WINFLEET_PREFIX: `d${randomBytes(3).toString('hex')}-`,
      AWS_REGION: 'us-east-1',
      WINFLEET_DYNAMODB_ENDPOINT: dynamo.endpoint,
      WINFLEET_SQS_ENDPOINT: sqsEmulator.endpoint,
    };
    deps = { env, doc: createDocumentClient(env), sqs: createSqsClient(env), logger };
    const admin = new DynamoDBClient({
      region: env.AWS_REGION,
      endpoint: dynamo.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await createTables(admin, env.WINFLEET_PREFIX);
    admin.destroy();
  });
  afterAll(async () => {
    deps.doc.destroy();
    deps.sqs.destroy();
    await Promise.all([dynamo.stop(), sqsEmulator.stop()]);
  });

  /** A site with `count` devices; its queue exists unless `withQueue` is false. */
  async function site(siteId: string, count: number, withQueue = true) {
    await putSites(deps.doc, deps.env, [siteOf(siteId)]);
    await putDevices(deps.doc, deps.env, fleetOf([siteId], count));
    if (withQueue) await createSiteQueue(deps.sqs, deps.env.WINFLEET_PREFIX, siteId);
  }

  async function drain(siteId: string): Promise<BatchMessage[]> {
    const queueUrl = await createSiteQueue(deps.sqs, deps.env.WINFLEET_PREFIX, siteId);
    const messages: BatchMessage[] = [];
    for (;;) {
      const out = await deps.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
        }),
      );
      if (!out.Messages?.length) return messages;
      for (const m of out.Messages) messages.push(BatchMessage.parse(JSON.parse(m.Body ?? '')));
    }
  }

  it('accepts an operation before any batch is sent, then sends them in the background', async () => {
    await site('async', 600);
    const stats = new RequestStats();
    const sqs = createSqsClient(deps.env);
    countSqsRequests(sqs, stats);

    const created = await createOperation(
      { ...deps, sqs },
      { type: 'status', targets: { siteIds: ['async'] } },
      { source: 'api', logger },
    );
    const sentWhenAccepted = stats.calls.get('SQS.SendMessageBatch') ?? 0;
    await settleDispatches();

    expect(created).toMatchObject({ status: 'Pending', total: 600, batchCount: 3 });
    expect(sentWhenAccepted).toBe(0);
    const batches = await drain('async');
    expect(batches.map((b) => b.batchId).sort()).toEqual([
      'async-00000',
      'async-00001',
      'async-00002',
    ]);
    expect(batches.flatMap((b) => b.devices)).toHaveLength(600);
    const operation = await getOperation(deps.doc, deps.env, created.operationId);
    expect(operation?.status).toBe('InProgress');
    sqs.destroy();
  });

  it('sends nothing again when a finished dispatch is repeated', async () => {
    await site('again', 20);
    const created = await createOperation(
      deps,
      { type: 'status', targets: { siteIds: ['again'] } },
      { source: 'api', logger },
    );
    await settleDispatches();

    const repeated = await dispatchOperation(deps, created.operationId, logger);

    expect(repeated).toEqual({ operationId: created.operationId, sent: 0, alreadySent: 1 });
    expect((await drain('again')).map((b) => b.batchId)).toEqual(['again-00000']);
  });

  it('marks the operation Failed after its attempts and sends on retry only what is left', async () => {
    await site('ready', 300);
    await site('late', 30, false);
    const created = await createOperation(
      deps,
      { type: 'status', targets: { siteIds: ['late', 'ready'] } },
      { source: 'api', logger },
    );
    await settleDispatches();
    const { operationId } = created;
    expect(await getOperation(deps.doc, deps.env, operationId)).toMatchObject({
      status: 'Failed',
    });
    expect(await dispatchOperation(deps, operationId, logger)).toEqual({
      operationId,
      skipped: 'the operation is Failed',
    });

    // An operator reopens it and retries: first while the queue is still missing, then not.
    await reopen(operationId);
    await expect(dispatchOperation(deps, operationId, logger)).rejects.toBeInstanceOf(
      DispatchError,
    );
    // Past its attempts, a failed retry marks it Failed again.
    expect(await getOperation(deps.doc, deps.env, operationId)).toMatchObject({
      status: 'Failed',
    });
    await reopen(operationId);
    await createSiteQueue(deps.sqs, deps.env.WINFLEET_PREFIX, 'late');
    const retried = await dispatchOperation(deps, operationId, logger);

    expect(retried).toEqual({ operationId, sent: 1, alreadySent: 2 });
    expect((await drain('ready')).map((b) => b.batchId).sort()).toEqual([
      'ready-00001',
      'ready-00002',
    ]);
    expect((await drain('late')).map((b) => b.batchId)).toEqual(['late-00000']);
    expect(await getOperation(deps.doc, deps.env, operationId)).toMatchObject({
      status: 'InProgress',
    });
  });

  async function reopen(operationId: string) {
    await deps.doc.send(
      new UpdateCommand({
        TableName: tableName(deps.env.WINFLEET_PREFIX, 'operations'),
        Key: { operationId },
        UpdateExpression: 'SET #status = :pending',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':pending': 'Pending' },
      }),
    );
  }
});
