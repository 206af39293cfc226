import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { GetQueueUrlCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../shared/logger.ts';
import { siteDeadLetterQueueName } from '../shared/queues.ts';
import type { BatchMessage } from '../shared/schemas/batch.ts';
import type { DeviceResult } from '../shared/schemas/result.ts';
import { tableName } from '../shared/tables.ts';
import { Archive, ArchiveWriter } from './archive/index.ts';
import { ResultDelivery } from './cloud/index.ts';
import { resolveConnectorConfig } from './config.ts';
import { DeadLetterWatcher } from './dead-letter-watcher.ts';
import { ConnectorService } from './service.ts';
import { eventually, messagesOnQueue, sendBody, statusBatch } from './testing/batches.ts';
import { createSiteQueue, putOperation, startTestCloud, type TestCloud } from './testing/cloud.ts';
import { TestDoubleTransport } from './testing/test-double-transport.ts';

const silent = createLogger('test', { level: 'silent' });

describe('DeadLetterWatcher', () => {
  let cloud: TestCloud;
  let dir: string;
  let archive: Archive;
  let dlqUrl: string;
  let events: { msg: string; messageId?: string }[];

  beforeAll(async () => {
    cloud = await startTestCloud();
    await createSiteQueue(cloud.sqsClient, cloud.prefix, 'site-a');
    const name = siteDeadLetterQueueName(cloud.prefix, 'site-a');
    const out = await cloud.sqsClient.send(new GetQueueUrlCommand({ QueueName: name }));
    dlqUrl = out.QueueUrl ?? '';
    // A message received in one round is visible again in the next.
    await cloud.sqsClient.send(
      new SetQueueAttributesCommand({ QueueUrl: dlqUrl, Attributes: { VisibilityTimeout: '0' } }),
    );
  });
  afterAll(() => cloud.stop());

  beforeEach(() => {
    events = [];
    dir = mkdtempSync(path.join(tmpdir(), 'winfleet-dlq-'));
    archive = new Archive(path.join(dir, 'archive.db'));
  });
  afterEach(() => {
    archive.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function watcher(holds?: (operationId: string, batchId: string) => boolean) {
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          events.push(JSON.parse(chunk.toString()));
          done();
        },
      }),
    );
    return new DeadLetterWatcher({
      siteId: 'site-a',
      prefix: cloud.prefix,
      sqs: cloud.sqsClient,
      archive,
      writer: new ArchiveWriter(archive),
      delivery: new ResultDelivery({ client: cloud.documents, prefix: cloud.prefix, logger }),
      logger,
      holds,
    });
  }

  function ranResult(batch: BatchMessage, index: number): DeviceResult {
    const now = new Date().toISOString();
    const { operationId, batchId, siteId } = batch;
    const deviceId = batch.devices[index]?.deviceId ?? '';
    return {
      ...{ operationId, batchId, siteId, deviceId, status: 'Success' as const },
      startedAt: now,
      finishedAt: now,
      durationMs: 5,
    };
  }

  async function operation(operationId: string) {
    const out = await cloud.documents.send(
      new GetCommand({ TableName: tableName(cloud.prefix, 'operations'), Key: { operationId } }),
    );
    return out.Item;
  }

  it('fails the unrun devices of a dead-lettered batch and finishes its operation', async () => {
    const batch = statusBatch('op-deadletter01', 4);
    await putOperation(cloud, batch.operationId, 4);
    // Before the crashes: device 0 ran and was delivered, device 1 ran and waits in the outbox.
    const writer = new ArchiveWriter(archive);
    await writer.write(ranResult(batch, 0));
    await writer.write(ranResult(batch, 1));
    const delivery = new ResultDelivery({
      client: cloud.documents,
      prefix: cloud.prefix,
      logger: silent,
    });
    await delivery.deliverResults([ranResult(batch, 0)]);
    archive.markDelivered([ranResult(batch, 0)]);
    await sendBody(cloud.sqsClient, dlqUrl, JSON.stringify(batch));

    const round = await watcher().round();

    expect(round).toEqual({ settled: 1, kept: 0, malformed: 0 });
    expect(await operation(batch.operationId)).toMatchObject({
      status: 'CompletedWithErrors',
      done: 4,
      counts: { Success: 2, Failed: 2 },
    });
    const ids = batch.devices.map((d) => d.deviceId);
    const archived = archive.finalResultsFor(batch.operationId, ids);
    expect(archived.filter((a) => a.deliveredAt)).toHaveLength(4);
    const failed = archived.filter((a) => a.result.status === 'Failed').map((a) => a.result);
    expect(failed.map((r) => r.deviceId).sort()).toEqual([ids[2], ids[3]]);
    for (const result of failed) {
      expect(result.error).toMatch(/^batch dead-lettered after 5 receives: /);
    }
    expect(await messagesOnQueue(cloud.sqsClient, dlqUrl)).toBe(0);
  });

  it('leaves a batch the connector holds until it no longer holds it', async () => {
    const batch = statusBatch('op-deadletter02', 2);
    await putOperation(cloud, batch.operationId, 2);
    await sendBody(cloud.sqsClient, dlqUrl, JSON.stringify(batch));
    let held = true;
    const watching = watcher((operationId, batchId) => {
      return held && operationId === batch.operationId && batchId === batch.batchId;
    });

    const first = await watching.round();
    const ids = batch.devices.map((d) => d.deviceId);
    const untouched = archive.finalResultsFor(batch.operationId, ids).length;
    held = false;
    const second = await watching.round();

    expect(first).toEqual({ settled: 0, kept: 1, malformed: 0 });
    expect(untouched).toBe(0);
    expect(second).toEqual({ settled: 1, kept: 0, malformed: 0 });
    expect(await operation(batch.operationId)).toMatchObject({
      status: 'Failed',
      counts: { Failed: 2 },
    });
  });

  it('leaves a message that is not a batch in the queue and logs it once', async () => {
    await sendBody(cloud.sqsClient, dlqUrl, 'not json {');
    await sendBody(
      cloud.sqsClient,
      dlqUrl,
      JSON.stringify({ ...statusBatch('op-x', 1), siteId: 'site-b' }),
    );
    const watching = watcher();

    const rounds = [await watching.round(), await watching.round()];

    expect(rounds).toEqual([
      { settled: 0, kept: 0, malformed: 2 },
      { settled: 0, kept: 0, malformed: 2 },
    ]);
    const logged = events.filter((e) => e.msg === 'dead-lettered message is not a batch');
    expect(logged).toHaveLength(2);
    expect(new Set(logged.map((e) => e.messageId)).size).toBe(2);
    expect(await messagesOnQueue(cloud.sqsClient, dlqUrl)).toBe(2);
  });
});

describe('ConnectorService and its dead-letter queue', () => {
  let cloud: TestCloud;
  let dir: string;

  beforeAll(async () => {
    cloud = await startTestCloud();
    dir = mkdtempSync(path.join(tmpdir(), 'winfleet-dlq-service-'));
  });
  afterAll(async () => {
    await cloud.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finishes an operation whose batch was dead-lettered', async () => {
    await createSiteQueue(cloud.sqsClient, cloud.prefix, 'site-a');
    const name = siteDeadLetterQueueName(cloud.prefix, 'site-a');
    const dlq = await cloud.sqsClient.send(new GetQueueUrlCommand({ QueueName: name }));
    const batch = statusBatch('op-deadletter03', 3);
    await putOperation(cloud, batch.operationId, 3);
    await sendBody(cloud.sqsClient, dlq.QueueUrl ?? '', JSON.stringify(batch));
    const config = resolveConnectorConfig(
      {
        siteId: 'site-a',
        dataDir: path.join(dir, 'site-a'),
        prefix: cloud.prefix,
        dynamodbEndpoint: cloud.dynamodb.endpoint,
        sqsEndpoint: cloud.sqs.endpoint,
        transport: { type: 'wsman', auth: { type: 'basic', user: 'u' } },
      },
      path.join(dir, 'connector.json'),
      { WINFLEET_WINRM_PASSWORD: 'p' },
    );
    const transport = new TestDoubleTransport();
    const service = new ConnectorService({
      config,
      transport,
      logger: silent,
      waitTimeSeconds: 1,
      deadLetterIntervalMs: 100,
    });
    const running = service.run();

    await eventually(async () => {
      const out = await cloud.documents.send(
        new GetCommand({
          TableName: tableName(cloud.prefix, 'operations'),
          Key: { operationId: batch.operationId },
        }),
      );
      return out.Item?.status === 'Failed';
    }, 400);
    service.stop();
    await running;

    expect(transport.runs).toEqual([]);
    expect(await messagesOnQueue(cloud.sqsClient, dlq.QueueUrl ?? '')).toBe(0);
  });
});
