import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planBatches } from '../functions/lib/plan-batches.ts';
import { createLogger } from '../shared/logger.ts';
import type { BatchDevice, Operation, RateControl } from '../shared/schemas/index.ts';
import { tableName } from '../shared/tables.ts';
import { Archive, ArchiveWriter } from './archive/index.ts';
import { BatchWorker } from './batch-worker.ts';
import { ResultDelivery } from './cloud/index.ts';
import { OperationControl } from './operation-control.ts';
import { sendBody } from './testing/batches.ts';
import { createSiteQueue, putOperation, startTestCloud, type TestCloud } from './testing/cloud.ts';
import { ok, TestDoubleTransport } from './testing/test-double-transport.ts';
import { SiteThrottle } from './throttle.ts';

const logger = createLogger('test', { level: 'silent' });
const SITES = ['site-a', 'site-b', 'site-c'];

/** One connector per site: its own archive, control, delivery, throttle and worker. */
interface Site {
  siteId: string;
  queueUrl: string;
  archive: Archive;
  transport: TestDoubleTransport;
  worker: BatchWorker;
  control: OperationControl;
}

describe('an operation over three sites', () => {
  let cloud: TestCloud;
  let dir: string;
  const queues = new Map<string, string>();
  const sites: Site[] = [];

  beforeAll(async () => {
    cloud = await startTestCloud();
    for (const siteId of SITES) {
      queues.set(siteId, await createSiteQueue(cloud.sqsClient, cloud.prefix, siteId));
    }
    dir = mkdtempSync(path.join(tmpdir(), 'winfleet-limits-'));
  });
  afterAll(async () => {
    for (const site of sites) site.archive.close();
    rmSync(dir, { recursive: true, force: true });
    await cloud.stop();
  });

  function connectors(name: string, failing: boolean): Site[] {
    const made = SITES.map((siteId) => {
      const archive = new Archive(path.join(dir, `${name}-${siteId}.db`));
      // Only the status read on a batch's arrival and before a device: no 20 ms polling.
      const control = new OperationControl({
        client: cloud.documents,
        prefix: cloud.prefix,
        logger,
      });
      const delivery = new ResultDelivery({
        client: cloud.documents,
        prefix: cloud.prefix,
        logger,
        onProgress: (operationId, progress) => control.observe(operationId, progress),
      });
      const transport = new TestDoubleTransport(() => ({ ...ok(''), exitCode: failing ? 1 : 0 }));
      const worker = new BatchWorker({
        ...{ siteId, sqs: cloud.sqsClient, queueUrl: queues.get(siteId) ?? '', archive },
        ...{ writer: new ArchiveWriter(archive), delivery, control, transport, logger },
        throttle: new SiteThrottle(10),
        defaultTimeoutSeconds: 30,
      });
      return { siteId, queueUrl: queues.get(siteId) ?? '', archive, transport, worker, control };
    });
    sites.push(...made);
    return made;
  }

  /** Plans the operation the way the control plane does and queues its batches. */
  async function start(operationId: string, perSite: number, rateControl: RateControl) {
    const bySite = new Map<string, BatchDevice[]>(
      SITES.map((siteId) => [siteId, devices(operationId, siteId, perSite)]),
    );
    const total = perSite * SITES.length;
    const batches = planBatches(operationOf(operationId, total, rateControl), bySite, {
      maxDevicesPerBatch: 100,
      maxMessageBytes: 256 * 1024,
    });
    await putOperation(cloud, operationId, total, 'script');
    for (const batch of batches) {
      await sendBody(cloud.sqsClient, queues.get(batch.siteId) ?? '', batch.body);
    }
  }

  const signals = () => ({
    stop: new AbortController().signal,
    abort: new AbortController().signal,
  });

  async function runAll(connected: Site[]) {
    const outcomes = await Promise.all(
      connected.map(async (site) => site.worker.process(await receive(site.queueUrl), signals())),
    );
    expect(outcomes).toEqual(['deleted', 'deleted', 'deleted']);
  }

  function statesOf(connected: Site[], operationId: string, perSite: number) {
    const states: Record<string, number> = {};
    for (const site of connected) {
      const ids = devices(operationId, site.siteId, perSite).map((d) => d.deviceId);
      for (const { result } of site.archive.finalResultsFor(operationId, ids)) {
        states[result.status] = (states[result.status] ?? 0) + 1;
      }
    }
    return states;
  }

  it('keeps a count of maxErrors within maxErrors + sites × throttleLimit failures', async () => {
    const connected = connectors('count', true);
    await start('op-limitcount01', 10, { maxErrors: 3, throttleLimit: 1 });

    await runAll(connected);

    const states = statesOf(connected, 'op-limitcount01', 10);
    expect(states.Failed).toBeGreaterThan(3);
    expect(states.Failed).toBeLessThanOrEqual(3 + SITES.length * 1);
    expect((states.Failed ?? 0) + (states.Cancelled ?? 0)).toBe(30);
    const runs = connected.reduce((n, site) => n + site.transport.runs.length, 0);
    expect(runs).toBe(states.Failed);
  });

  it('keeps a percentage within its device count + sites × throttleLimit failures', async () => {
    const connected = connectors('percent', true);
    // 60 devices: 10% is 6, 2 for each site.
    await start('op-limitpcent01', 20, { maxErrors: '10%', throttleLimit: 1 });

    await runAll(connected);

    const states = statesOf(connected, 'op-limitpcent01', 20);
    expect(states.Failed).toBeGreaterThan(6);
    expect(states.Failed).toBeLessThanOrEqual(6 + SITES.length * 1);
    expect((states.Failed ?? 0) + (states.Cancelled ?? 0)).toBe(60);
  });

  it('contacts no device of an operation cancelled before its batches arrive', async () => {
    const connected = connectors('cancel', false);
    await start('op-limitcancl01', 5, { throttleLimit: 2 });
    await cloud.documents.send(
      new UpdateCommand({
        TableName: tableName(cloud.prefix, 'operations'),
        Key: { operationId: 'op-limitcancl01' },
        UpdateExpression: 'SET #status = :cancelled',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':cancelled': 'Cancelled' },
      }),
    );

    await runAll(connected);

    expect(statesOf(connected, 'op-limitcancl01', 5)).toEqual({ Cancelled: 15 });
    expect(connected.map((site) => site.transport.runs.length)).toEqual([0, 0, 0]);
  });

  async function receive(queueUrl: string): Promise<Message> {
    const out = await cloud.sqsClient.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }),
    );
    const [message] = out.Messages ?? [];
    if (!message) throw new Error('no message received');
    return message;
  }
});

function devices(operationId: string, siteId: string, count: number): BatchDevice[] {
  return Array.from({ length: count }, (_, i) => ({
    deviceId: `${operationId}-${siteId}-${i}`,
    computerName: `${siteId.toUpperCase()}-${i}`,
    address: '127.161.0.1',
    port: 5985,
  }));
}

function operationOf(operationId: string, total: number, rateControl: RateControl): Operation {
  const createdAt = new Date().toISOString();
  return {
    ...{ operationId, type: 'script', status: 'Pending', targets: { all: true } },
    parameters: { script: 'exit 1' },
    ...{ rateControl, total, done: 0, counts: {}, siteIds: SITES, batchCount: 0 },
    ...{ createdAt, updatedAt: createdAt, source: 'api' },
  };
}
