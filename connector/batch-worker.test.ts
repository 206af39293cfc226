import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ChangeMessageVisibilityCommand,
  type Message,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../shared/logger.ts';
import { tableName } from '../shared/tables.ts';
import { Archive, ArchiveWriter } from './archive/index.ts';
import { BatchWorker } from './batch-worker.ts';
import { ResultDelivery } from './cloud/index.ts';
import { OperationControl } from './operation-control.ts';
import { messagesOnQueue, sendBody, statusBatch } from './testing/batches.ts';
import { createSiteQueue, putOperation, startTestCloud, type TestCloud } from './testing/cloud.ts';
import { ok, statusJson, TestDoubleTransport } from './testing/test-double-transport.ts';
import { SiteThrottle } from './throttle.ts';

const logger = createLogger('test', { level: 'silent' });

describe('BatchWorker', () => {
  let cloud: TestCloud;
  let queueUrl: string;
  let dir: string;
  let archive: Archive;

  beforeAll(async () => {
    cloud = await startTestCloud();
    queueUrl = await createSiteQueue(cloud.sqsClient, cloud.prefix, 'site-a');
  });
  afterAll(() => cloud.stop());

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'winfleet-worker-'));
    archive = new Archive(path.join(dir, 'archive.db'));
  });
  afterEach(() => {
    archive.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function worker(
    transport: TestDoubleTransport,
    options: { prefix?: string; budget?: number; control?: boolean } = {},
  ) {
    const prefix = options.prefix ?? cloud.prefix;
    const control = options.control
      ? new OperationControl({ client: cloud.documents, prefix, logger, pollIntervalMs: 20 })
      : undefined;
    return new BatchWorker({
      control,
      siteId: 'site-a',
      sqs: cloud.sqsClient,
      queueUrl,
      archive,
      writer: new ArchiveWriter(archive),
      delivery: new ResultDelivery({
        client: cloud.documents,
        prefix,
        logger,
        onProgress: (operationId, progress) => control?.observe(operationId, progress),
      }),
      transport,
      throttle: new SiteThrottle(options.budget ?? 10),
      logger,
      defaultTimeoutSeconds: 30,
    });
  }

  async function receiveOne(): Promise<Message> {
    const out = await cloud.sqsClient.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }),
    );
    const [message] = out.Messages ?? [];
    if (!message) throw new Error('no message received');
    return message;
  }

  const signals = () => ({
    stop: new AbortController().signal,
    abort: new AbortController().signal,
  });
  const answering = () => new TestDoubleTransport((d) => ok(statusJson(d.computerName)));

  it('deletes the message once every result is archived and accepted by DynamoDB', async () => {
    const batch = statusBatch('op-delete00001', 5);
    await putOperation(cloud, batch.operationId, 5);
    await sendBody(cloud.sqsClient, queueUrl, JSON.stringify(batch));

    const outcome = await worker(answering()).process(await receiveOne(), signals());

    expect(outcome).toBe('deleted');
    expect(await messagesOnQueue(cloud.sqsClient, queueUrl)).toBe(0);
    expect(archive.outbox()).toEqual([]);
    const operation = await cloud.documents.send(
      new GetCommand({
        TableName: tableName(cloud.prefix, 'operations'),
        Key: { operationId: batch.operationId },
      }),
    );
    expect(operation.Item).toMatchObject({ done: 5, counts: { Success: 5 }, status: 'Success' });
  });

  it('keeps the message while the cloud refuses results, and does not rerun them later', async () => {
    const batch = statusBatch('op-redeliver01', 4);
    await putOperation(cloud, batch.operationId, 4);
    await sendBody(cloud.sqsClient, queueUrl, JSON.stringify(batch));
    const transport = answering();

    const message = await receiveOne();
    const first = await worker(transport, { prefix: 'missing-' }).process(message, signals());
    expect(first).toBe('kept');
    expect(archive.outbox()).toHaveLength(4);
    expect(await messagesOnQueue(cloud.sqsClient, queueUrl)).toBe(1);

    const redelivered = await worker(transport).process(await receiveAgain(message), signals());

    expect(redelivered).toBe('deleted');
    expect(transport.runs).toHaveLength(4);
    expect(archive.outbox()).toEqual([]);
  });

  it('runs devices of two batches within one shared budget', async () => {
    const a = statusBatch('op-budget00001', 10);
    const b = statusBatch('op-budget00002', 10);
    await Promise.all([
      putOperation(cloud, a.operationId, 10),
      putOperation(cloud, b.operationId, 10),
    ]);
    await sendBody(cloud.sqsClient, queueUrl, JSON.stringify(a));
    await sendBody(cloud.sqsClient, queueUrl, JSON.stringify(b));
    const transport = answering();
    const shared = worker(transport, { budget: 3 });

    const outcomes = await Promise.all([
      shared.process(await receiveOne(), signals()),
      shared.process(await receiveOne(), signals()),
    ]);

    expect(outcomes).toEqual(['deleted', 'deleted']);
    expect(transport.maxInFlight).toBe(3);
    expect(transport.runs).toHaveLength(20);
  });

  it('answers a repeated status operation from the cache without running it', async () => {
    const first = statusBatch('op-cachefirst1', 3);
    const devices = first.devices;
    const second = statusBatch('op-cachesecnd1', 3, { devices });
    await putOperation(cloud, first.operationId, 3);
    await putOperation(cloud, second.operationId, 3);
    const transport = answering();
    await sendBody(cloud.sqsClient, queueUrl, JSON.stringify(first));
    await worker(transport).process(await receiveOne(), signals());
    await sendBody(cloud.sqsClient, queueUrl, JSON.stringify(second));

    const outcome = await worker(transport).process(await receiveOne(), signals());

    expect(outcome).toBe('deleted');
    expect(transport.runs).toHaveLength(3);
    const ids = devices.map((d) => d.deviceId);
    const cached = archive.finalResultsFor(second.operationId, ids).map((r) => r.result);
    expect(cached.map((r) => r.status)).toEqual(['Cached', 'Cached', 'Cached']);
    expect(cached[0]?.output).toMatchObject({ computerName: 'DEV-0' });
  });

  it('cancels the devices not started yet once maxErrors is passed', async () => {
    const batch = statusBatch('op-maxerrors01', 10, { rateControl: { maxErrors: 2 } });
    await putOperation(cloud, batch.operationId, 10);
    await sendBody(cloud.sqsClient, queueUrl, JSON.stringify(batch));
    const transport = new TestDoubleTransport(() => ({ ...ok(''), exitCode: 1 }));

    const outcome = await worker(transport, { budget: 1, control: true }).process(
      await receiveOne(),
      signals(),
    );

    expect(outcome).toBe('deleted');
    const states = statesOf(batch);
    expect(states).toEqual({ Failed: 3, Cancelled: 7 });
    expect(transport.runs).toHaveLength(3);
  });

  it('cancels the devices not started yet once the operation is cancelled', async () => {
    const batch = statusBatch('op-cancelled01', 8);
    await putOperation(cloud, batch.operationId, 8);
    await cloud.documents.send(
      new UpdateCommand({
        TableName: tableName(cloud.prefix, 'operations'),
        Key: { operationId: batch.operationId },
        UpdateExpression: 'SET #status = :cancelled',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':cancelled': 'Cancelled' },
      }),
    );
    await sendBody(cloud.sqsClient, queueUrl, JSON.stringify(batch));
    const transport = new TestDoubleTransport((d) => ok(statusJson(d.computerName)), 20);

    await worker(transport, { budget: 1, control: true }).process(await receiveOne(), signals());

    expect(statesOf(batch).Cancelled).toBeGreaterThan(0);
    expect(transport.runs.length).toBeLessThan(8);
  });

  function statesOf(batch: ReturnType<typeof statusBatch>): Record<string, number> {
    const ids = batch.devices.map((d) => d.deviceId);
    const states: Record<string, number> = {};
    for (const { result } of archive.finalResultsFor(batch.operationId, ids)) {
      states[result.status] = (states[result.status] ?? 0) + 1;
    }
    return states;
  }

  it('reports every device Failed when the parameters do not fit the type', async () => {
    const batch = statusBatch('op-badparams01', 2, {
      type: 'service',
      parameters: { name: 'Spooler' },
    });
    await putOperation(cloud, batch.operationId, 2, 'service');
    await sendBody(cloud.sqsClient, queueUrl, JSON.stringify(batch));
    const transport = answering();

    const outcome = await worker(transport).process(await receiveOne(), signals());

    expect(outcome).toBe('deleted');
    expect(transport.runs).toEqual([]);
    const results = archive.finalResultsFor(
      batch.operationId,
      batch.devices.map((d) => d.deviceId),
    );
    expect(results.map((r) => r.result.status)).toEqual(['Failed', 'Failed']);
  });

  /** Makes a kept message visible again, as its visibility timeout would, and receives it. */
  async function receiveAgain(kept: Message): Promise<Message> {
    await cloud.sqsClient.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: kept.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    return receiveOne();
  }
});
