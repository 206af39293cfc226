import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startDynamoDb, startSqs } from '../../local/emulators.ts';
import { createSiteQueue, createTables } from '../../local/provision.ts';
import { createDocumentClient, createSqsClient } from '../../shared/aws.ts';
import { countSqsRequests, RequestStats } from '../../shared/aws-stats.ts';
import type { CloudEnv } from '../../shared/config.ts';
import { createLogger } from '../../shared/logger.ts';
import { readBatchProgress, readResultBatches } from '../../shared/result-batch-store.ts';
import { expandEntry } from '../../shared/result-batches.ts';
import { BatchMessage } from '../../shared/schemas/index.ts';
import { SiteNotDeployedError } from '../errors.ts';
import { fleetOf, siteOf } from '../test/api-stack.ts';
import { createOperation } from './create-operation.ts';
import type { Deps } from './deps.ts';
import { putDevices } from './devices-store.ts';
import { dispatchBatches } from './dispatch-batches.ts';
import { dispatchOperation } from './dispatch-operation.ts';
import { settleDispatches } from './dispatch-trigger.ts';
import { getOperation, listOperationsPage } from './operations-store.ts';
import { findUndeployedSites } from './site-queues.ts';
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

  async function readResults(operationId: string, batchId: string) {
    const batches = await readResultBatches(deps.doc, deps.env.WINFLEET_PREFIX, operationId);
    const batch = batches.find((b) => b.batchId === batchId);
    return batch ? batch.entries.map((entry) => expandEntry(batch, entry)) : [];
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

  it('sends device names and scripts with characters SQS refuses and reads them back equal', async () => {
    const computerName = 'PC-\u{1F389}\uFFFF';
    const script = 'Write-Output "\u{1F389} done \uFFFF \u0001 \\u0041"';
    await site('emoji', 2);
    const [device] = fleetOf(['emoji'], 1);
    if (!device) throw new Error('no device');
    await putDevices(deps.doc, deps.env, [{ ...device, computerName }]);

    const created = await createOperation(
      deps,
      { type: 'script', targets: { siteIds: ['emoji'] }, parameters: { script } },
      { source: 'api', logger },
    );
    await settleDispatches();

    const operation = await getOperation(deps.doc, deps.env, created.operationId);
    expect(operation?.error).toBeUndefined();
    const [batch] = await drain('emoji');
    expect(batch?.parameters).toEqual({ script });
    expect(batch?.devices.map((d) => d.computerName)).toContain(computerName);
  });

  it('logs the code and message of a batch entry SQS refuses, and does not retry it', async () => {
    await site('refused', 1);
    const lines: Record<string, unknown>[] = [];
    const capture = pino(
      { level: 'warn' },
      { write: (line: string) => lines.push(JSON.parse(line)) },
    );
    const body = '{"bad":"\uFFFF"}';
    const batch = {
      batchId: 'refused-00000',
      siteId: 'refused',
      deviceCount: 0,
      devices: [],
      body,
    };

    const unsent = await dispatchBatches(
      deps.sqs,
      deps.env,
      [{ ...batch, bodyBytes: 12 }],
      capture,
    );

    expect(unsent.map((u) => u.error)).toEqual([
      expect.stringMatching(/^InvalidMessageContents: /),
    ]);
    const refusals = lines.filter((line) => line.msg === 'batch entry refused by SQS');
    expect(refusals).toEqual([
      expect.objectContaining({
        siteId: 'refused',
        batchId: 'refused-00000',
        code: 'InvalidMessageContents',
        sqsMessage: expect.stringContaining('Invalid characters'),
        senderFault: true,
      }),
    ]);
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

  /** Deletes a site's queue after the create route has seen it (its URL is cached). */
  async function deleteQueueAfterCheck(siteId: string) {
    expect(await findUndeployedSites(deps.sqs, deps.env, [siteId])).toEqual([]);
    const queueUrl = await createSiteQueue(deps.sqs, deps.env.WINFLEET_PREFIX, siteId);
    await deps.sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  }

  it('refuses an operation naming a site without a queue and records nothing', async () => {
    await site('undeployed', 4, false);
    const before = await listOperationsPage(deps.doc, deps.env, { limit: 100 });

    const attempt = createOperation(
      deps,
      { type: 'status', targets: { siteIds: ['undeployed'] } },
      { source: 'api', logger },
    );

    await expect(attempt).rejects.toBeInstanceOf(SiteNotDeployedError);
    await expect(attempt).rejects.toMatchObject({
      statusCode: 409,
      details: {
        siteIds: ['undeployed'],
        queueNames: [`${deps.env.WINFLEET_PREFIX}site-undeployed`],
      },
    });
    const after = await listOperationsPage(deps.doc, deps.env, { limit: 100 });
    expect(after.items).toHaveLength(before.items.length);
  });

  it('gives Failed results to the devices of batches whose queue vanished, and goes on', async () => {
    await site('ready', 300);
    await site('late', 30);
    await deleteQueueAfterCheck('late');

    const created = await createOperation(
      deps,
      { type: 'status', targets: { siteIds: ['late', 'ready'] } },
      { source: 'api', logger },
    );
    await settleDispatches();

    const { operationId } = created;
    const operation = await getOperation(deps.doc, deps.env, operationId);
    expect(operation).toMatchObject({ status: 'InProgress', total: 330 });
    expect(operation?.error).toMatch(
      /^1 batches \(30 devices\) could not be queued to sites late; .*QueueDoesNotExist/,
    );
    expect(operation?.finishedAt).toBeUndefined();
    const progress = await readBatchProgress(deps.doc, deps.env.WINFLEET_PREFIX, operationId);
    expect(progress).toMatchObject({ done: 30, counts: { Failed: 30 } });
    const failed = await readResults(operationId, 'late-00000');
    expect(failed).toHaveLength(30);
    expect(
      failed.every((r) => r.status === 'Failed' && /could not be queued/.test(r.error ?? '')),
    ).toBe(true);
    expect((await drain('ready')).map((b) => b.batchId).sort()).toEqual([
      'ready-00001',
      'ready-00002',
    ]);

    // A later dispatch does not send the abandoned batch after its devices got results.
    await createSiteQueue(deps.sqs, deps.env.WINFLEET_PREFIX, 'late');
    expect(await dispatchOperation(deps, operationId, logger)).toEqual({
      operationId,
      sent: 0,
      alreadySent: 2,
    });
    expect(await drain('late')).toEqual([]);
  });

  it('closes an operation none of whose batches could be queued, with its error and counts', async () => {
    await site('gone', 12);
    await deleteQueueAfterCheck('gone');

    const created = await createOperation(
      deps,
      { type: 'status', targets: { siteIds: ['gone'] } },
      { source: 'api', logger },
    );
    await settleDispatches();

    const operation = await getOperation(deps.doc, deps.env, created.operationId);
    expect(operation).toMatchObject({
      status: 'Failed',
      total: 12,
      done: 12,
      counts: { Failed: 12 },
      finishedAt: expect.any(String),
      error: expect.stringMatching(/^1 batches \(12 devices\) could not be queued to sites gone/),
    });
  });
});
