import { rmSync } from 'node:fs';
import path from 'node:path';
import { SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorService } from '../connector/service.ts';
import { messagesOnQueue, sendBody, statusBatch } from '../connector/testing/batches.ts';
import {
  createSiteQueue,
  putOperation,
  startTestCloud,
  type TestCloud,
} from '../connector/testing/cloud.ts';
import { createLogger } from '../shared/logger.ts';
import { readBatchProgress } from '../shared/result-batch-store.ts';
import type { BatchDevice } from '../shared/schemas/batch.ts';
import { tableName } from '../shared/tables.ts';
import { type Fleet, startFleet } from '../sim/index.ts';
import {
  archivedRows,
  type CuttableProxy,
  connectorFor,
  recordCommandStarts,
  startProxy,
  tempDir,
  waitFor,
} from './fault-support.ts';

/**
 * The cloud is cut for 60 seconds, as the issue asks: devices finish while it is away, results
 * wait in the outbox, heartbeats fail and the queue's 3-second visibility timeout passes many
 * times over. WINFLEET_FAULT_OUTAGE_SECONDS shortens it while working on the test.
 */
const OUTAGE_MS = Number(process.env.WINFLEET_FAULT_OUTAGE_SECONDS ?? 60) * 1000;
const DEVICES = 60;
const VISIBILITY_TIMEOUT_SECONDS = 3;
const credentials = { user: 'fleet-admin', password: 'outage-secret' };
const logFile = path.join(tempDir('outage-log'), 'connector.log');
const logger = createLogger('fault-outage', { level: 'info', file: logFile });

describe('an outage of DynamoDB and SQS in the middle of an operation', () => {
  let cloud: TestCloud;
  let fleet: Fleet;
  let dir: string;
  let dynamoProxy: CuttableProxy;
  let sqsProxy: CuttableProxy;
  let service: ConnectorService;
  let running: Promise<void>;
  let queueUrl: string;

  beforeAll(async () => {
    cloud = await startTestCloud('outage-');
    queueUrl = await createSiteQueue(cloud.sqsClient, cloud.prefix, 'site-a');
    await cloud.sqsClient.send(
      new SetQueueAttributesCommand({
        QueueUrl: queueUrl,
        Attributes: { VisibilityTimeout: String(VISIBILITY_TIMEOUT_SECONDS) },
      }),
    );
    [dynamoProxy, sqsProxy] = await Promise.all([
      startProxy(cloud.dynamodb),
      startProxy(cloud.sqs),
    ]);
    fleet = await startFleet({
      devices: DEVICES,
      subnet: '127.91.0.0/16',
      latencyMs: 40,
      siteId: 'site-a',
      ...credentials,
    });
    dir = tempDir('outage');
    ({ service } = connectorFor({
      siteId: 'site-a',
      dir,
      prefix: cloud.prefix,
      dynamodbEndpoint: dynamoProxy.endpoint,
      sqsEndpoint: sqsProxy.endpoint,
      queueUrl,
      credentials,
      logger,
      settings: { throttleLimit: 6, syncIntervalSeconds: 2, drainGraceSeconds: 2 },
      outboxRetryBaseMs: 200,
    }));
    running = service.run();
  });

  afterAll(async () => {
    service?.stop();
    await running;
    await Promise.all([fleet?.close(), dynamoProxy?.close(), sqsProxy?.close()]);
    await cloud?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function operation(operationId: string) {
    const out = await cloud.documents.send(
      new GetCommand({ TableName: tableName(cloud.prefix, 'operations'), Key: { operationId } }),
    );
    return out.Item;
  }

  it(
    'keeps running devices, holds results in the outbox and delivers all once it is back',
    async () => {
      const operationId = 'op-outage0001';
      const starts = recordCommandStarts(fleet);
      const devices: BatchDevice[] = fleet.devices.map((d) => ({
        deviceId: d.computerName.toLowerCase(),
        computerName: d.computerName,
        address: d.address,
        port: d.port,
      }));
      await putOperation(cloud, operationId, DEVICES);
      for (const [index, slice] of [devices.slice(0, 30), devices.slice(30)].entries()) {
        const batch = statusBatch(operationId, slice.length, {
          batchId: `${operationId}-b${index + 1}`,
          devices: slice,
          operationTotal: DEVICES,
          force: true,
        });
        await sendBody(cloud.sqsClient, queueUrl, JSON.stringify(batch));
      }

      await waitFor('the first devices to start', () => fleet.stats.commandsRun >= 10);
      await Promise.all([dynamoProxy.cut(), sqsProxy.cut()]);
      const cutAt = Date.now();
      const startedBeforeCut = fleet.stats.commandsRun;
      await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
      const startedDuringOutage = fleet.stats.commandsRun - startedBeforeCut;
      const outboxDuringOutage = service.health.report().outboxSize;
      await Promise.all([dynamoProxy.restore(), sqsProxy.restore()]);

      await waitFor(
        'the operation to finish',
        async () => (await operation(operationId))?.status === 'Success',
        { timeoutMs: 45_000, intervalMs: 200 },
      );
      await waitFor(
        'the queue to empty',
        async () => (await messagesOnQueue(cloud.sqsClient, queueUrl)) === 0,
        {
          timeoutMs: 20_000,
          intervalMs: 200,
        },
      );

      // Work in hand went on while the cloud was away, and its results waited locally.
      expect(startedDuringOutage).toBeGreaterThan(0);
      expect(outboxDuringOutage).toBeGreaterThan(0);
      // Everything arrived exactly once.
      expect((await operation(operationId))?.status).toBe('Success');
      const progress = await readBatchProgress(cloud.documents, cloud.prefix, operationId);
      expect(progress).toMatchObject({ done: DEVICES, counts: { Success: DEVICES } });
      const rows = archivedRows(path.join(dir, 'site-a', 'archive.db'), operationId);
      expect(rows.map((r) => r.device_id)).toEqual(devices.map((d) => d.deviceId).sort());
      expect(rows.every((r) => r.status === 'Success' && r.delivered_at !== null)).toBe(true);
      // No device ran again once its result was archived (the second copy skipped them).
      for (const row of rows) {
        const computerName = devices.find((d) => d.deviceId === row.device_id)?.computerName ?? '';
        const late = (starts.get(computerName) ?? []).filter(
          (t) => t > Date.parse(row.finished_at),
        );
        expect(late, row.device_id).toEqual([]);
      }
      const report = service.health.report();
      expect(report.outboxSize).toBe(0);
      expect(Date.parse(report.lastCloudErrorAt ?? '')).toBeGreaterThanOrEqual(cutAt);
      expect(Date.parse(report.lastCloudContactAt ?? '')).toBeGreaterThan(cutAt + OUTAGE_MS);
    },
    OUTAGE_MS + 120_000,
  );
});
