import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../shared/logger.ts';
import { Archive, ArchiveWriter } from './archive/index.ts';
import { BatchWorker } from './batch-worker.ts';
import { ResultDelivery } from './cloud/index.ts';
import { Poller } from './poller.ts';
import { eventually, messagesOnQueue, sendBody, statusBatch } from './testing/batches.ts';
import { createSiteQueue, putOperation, startTestCloud, type TestCloud } from './testing/cloud.ts';
import { ok, statusJson, TestDoubleTransport } from './testing/test-double-transport.ts';
import { SiteThrottle } from './throttle.ts';

const logger = createLogger('test', { level: 'silent' });

describe('Poller', () => {
  let cloud: TestCloud;
  let dir: string;
  let archive: Archive;

  beforeAll(async () => {
    cloud = await startTestCloud();
  });
  afterAll(() => cloud.stop());

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'winfleet-poller-'));
    archive = new Archive(path.join(dir, 'archive.db'));
  });
  afterEach(() => {
    archive.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function poller(queueUrl: string, transport: TestDoubleTransport) {
    const worker = new BatchWorker({
      siteId: 'site-a',
      sqs: cloud.sqsClient,
      queueUrl,
      archive,
      writer: new ArchiveWriter(archive),
      delivery: new ResultDelivery({ client: cloud.documents, prefix: cloud.prefix, logger }),
      transport,
      throttle: new SiteThrottle(4),
      logger,
      defaultTimeoutSeconds: 30,
    });
    return new Poller({
      sqs: cloud.sqsClient,
      queueUrl,
      handler: worker,
      logger,
      maxBatchesInFlight: 2,
      waitTimeSeconds: 1,
    });
  }

  it('keeps polling past a malformed message and leaves it for the dead-letter queue', async () => {
    const queueUrl = await createSiteQueue(cloud.sqsClient, cloud.prefix, 'site-m');
    const batch = statusBatch('op-poller00001', 3);
    await putOperation(cloud, batch.operationId, 3);
    await sendBody(cloud.sqsClient, queueUrl, 'not json {');
    await sendBody(cloud.sqsClient, queueUrl, JSON.stringify({ version: 1, operationId: 'x' }));
    await sendBody(cloud.sqsClient, queueUrl, JSON.stringify(batch));
    const stop = new AbortController();

    const running = poller(
      queueUrl,
      new TestDoubleTransport((d) => ok(statusJson(d.computerName))),
    ).run({ stop: stop.signal, abort: new AbortController().signal });
    await eventually(() => archive.outbox().length === 0 && countArchived(batch) === 3);
    await eventually(async () => (await messagesOnQueue(cloud.sqsClient, queueUrl)) === 2);
    stop.abort();

    await expect(running).resolves.toBeUndefined();
  });

  it('finishes devices in flight when stopped and hands the rest back to the queue', async () => {
    const queueUrl = await createSiteQueue(cloud.sqsClient, cloud.prefix, 'site-d');
    const batch = statusBatch('op-drain000001', 12);
    await putOperation(cloud, batch.operationId, 12);
    await sendBody(cloud.sqsClient, queueUrl, JSON.stringify(batch));
    const stop = new AbortController();
    const transport = new TestDoubleTransport((d) => ok(statusJson(d.computerName)), 50);
    const running = poller(queueUrl, transport).run({
      stop: stop.signal,
      abort: new AbortController().signal,
    });

    await eventually(() => transport.inFlight > 0);
    stop.abort();
    await running;

    const archived = countArchived(batch);
    expect(archived).toBe(transport.runs.length);
    expect(archived).toBeLessThan(12);
    expect(await messagesOnQueue(cloud.sqsClient, queueUrl)).toBe(1);
  });

  function countArchived(batch: ReturnType<typeof statusBatch>): number {
    const ids = batch.devices.map((d) => d.deviceId);
    return archive.finalResultsFor(batch.operationId, ids).length;
  }
});
