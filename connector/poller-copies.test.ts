import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSqsClient } from '../shared/aws.ts';
import type { DeviceTarget } from '../shared/schemas/device.ts';
import { Archive, ArchiveWriter } from './archive/index.ts';
import { BatchWorker } from './batch-worker.ts';
import { ResultDelivery } from './cloud/index.ts';
import { Poller } from './poller.ts';
import { eventually, messagesOnQueue, sendBody, statusBatch } from './testing/batches.ts';
import { putOperation, startTestCloud, type TestCloud } from './testing/cloud.ts';
import { ok, statusJson } from './testing/test-double-transport.ts';
import { SiteThrottle } from './throttle.ts';
import type { CommandOutcome, Transport } from './transport.ts';

/** A queue that hides a received message for 2 s; the worker's heartbeats restore 3 s. */
const QUEUE_VISIBILITY_SECONDS = 2;
const HEARTBEAT_VISIBILITY_SECONDS = 3;

/** Devices wait for `open`; every run is counted per device. */
class GatedTransport implements Transport {
  readonly runs = new Map<string, number>();
  #open!: () => void;
  readonly #gate = new Promise<void>((resolve) => {
    this.#open = resolve;
  });

  open(): void {
    this.#open();
  }

  async run(device: DeviceTarget): Promise<CommandOutcome> {
    this.runs.set(device.deviceId, (this.runs.get(device.deviceId) ?? 0) + 1);
    await this.#gate;
    return ok(statusJson(device.computerName));
  }

  async close(): Promise<void> {}
}

describe('Poller with a copy of a batch in hand', () => {
  let cloud: TestCloud;
  let dir: string;
  let archive: Archive;
  let events: { msg: string; messageId?: string }[];
  const logger = () =>
    pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          events.push(JSON.parse(chunk.toString()));
          done();
        },
      }),
    );

  beforeAll(async () => {
    cloud = await startTestCloud();
  });
  afterAll(() => cloud.stop());

  beforeEach(() => {
    events = [];
    dir = mkdtempSync(path.join(tmpdir(), 'winfleet-copies-'));
    archive = new Archive(path.join(dir, 'archive.db'));
  });
  afterEach(() => {
    archive.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function shortQueue(name: string): Promise<string> {
    const out = await cloud.sqsClient.send(
      new CreateQueueCommand({
        QueueName: `${cloud.prefix}${name}`,
        Attributes: { VisibilityTimeout: String(QUEUE_VISIBILITY_SECONDS) },
      }),
    );
    if (!out.QueueUrl) throw new Error('no queue URL');
    return out.QueueUrl;
  }

  function poller(queueUrl: string, transport: Transport, workerSqs: SQSClient = cloud.sqsClient) {
    const log = logger();
    const worker = new BatchWorker({
      siteId: 'site-a',
      sqs: workerSqs,
      queueUrl,
      archive,
      writer: new ArchiveWriter(archive),
      delivery: new ResultDelivery({ client: cloud.documents, prefix: cloud.prefix, logger: log }),
      transport,
      throttle: new SiteThrottle(10),
      logger: log,
      defaultTimeoutSeconds: 30,
      visibilityTimeoutSeconds: HEARTBEAT_VISIBILITY_SECONDS,
    });
    return new Poller({
      sqs: cloud.sqsClient,
      queueUrl,
      handler: worker,
      logger: log,
      maxBatchesInFlight: 2,
      waitTimeSeconds: 1,
    });
  }

  const count = (msg: string) => events.filter((e) => e.msg === msg).length;

  it('adopts the receipt handle of a second receive and runs each device once', async () => {
    const queueUrl = await shortQueue('copies-same');
    const batch = statusBatch('op-copies00001', 3);
    await putOperation(cloud, batch.operationId, 3);
    await sendBody(cloud.sqsClient, queueUrl, JSON.stringify(batch));
    // The worker's own client loses the network: heartbeats fail, the message comes back.
    let outage = true;
    const workerSqs = createSqsClient({
      WINFLEET_PREFIX: cloud.prefix,
      AWS_REGION: 'us-east-1',
      WINFLEET_SQS_ENDPOINT: cloud.sqs.endpoint,
    });
    workerSqs.middlewareStack.add(
      (next) => async (args) => {
        if (outage) throw new Error('the network is down');
        return next(args);
      },
      { step: 'initialize' },
    );
    const transport = new GatedTransport();
    const stop = new AbortController();
    const p = poller(queueUrl, transport, workerSqs);
    const running = p.run({ stop: stop.signal, abort: new AbortController().signal });

    await eventually(() => count('message in hand received again') === 1, 400);
    outage = false;
    // Heartbeats on the adopted handle keep the message hidden from here on.
    await sleep(HEARTBEAT_VISIBILITY_SECONDS * 1000);
    transport.open();
    await eventually(async () => (await messagesOnQueue(cloud.sqsClient, queueUrl)) === 0, 400);
    stop.abort();
    await running;
    workerSqs.destroy();

    expect(count('message in hand received again')).toBe(1);
    expect([...transport.runs.values()]).toEqual([1, 1, 1]);
    expect(count('batch done')).toBe(1);
  });

  it('leaves a second message for a batch in hand alone until the batch finishes', async () => {
    const queueUrl = await shortQueue('copies-other');
    const batch = statusBatch('op-copies00002', 3);
    await putOperation(cloud, batch.operationId, 3);
    await sendBody(cloud.sqsClient, queueUrl, JSON.stringify(batch));
    await sendBody(cloud.sqsClient, queueUrl, JSON.stringify(batch));
    const transport = new GatedTransport();
    const stop = new AbortController();
    const p = poller(queueUrl, transport);
    const running = p.run({ stop: stop.signal, abort: new AbortController().signal });

    await eventually(() => count('batch in hand received in another message') >= 1, 400);
    expect(p.batchesInFlight).toBe(1);
    expect(p.holds(batch.operationId, batch.batchId)).toBe(true);
    transport.open();
    // The copy comes back after its visibility timeout, finds every device done, and goes.
    await eventually(async () => (await messagesOnQueue(cloud.sqsClient, queueUrl)) === 0, 400);
    stop.abort();
    await running;

    expect([...transport.runs.values()]).toEqual([1, 1, 1]);
    expect(count('batch done')).toBe(2);
    expect(p.holds(batch.operationId, batch.batchId)).toBe(false);
  });
});
