import { rmSync } from 'node:fs';
import path from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorService } from '../connector/service.ts';
import { sendBody, statusBatch } from '../connector/testing/batches.ts';
import {
  createSiteQueue,
  putOperation,
  startTestCloud,
  type TestCloud,
} from '../connector/testing/cloud.ts';
import { createLogger } from '../shared/logger.ts';
import { decideOperationStatus } from '../shared/operation-outcome.ts';
import { readBatchProgress } from '../shared/result-batch-store.ts';
import type { BatchDevice, BatchMessage } from '../shared/schemas/batch.ts';
import { tableName } from '../shared/tables.ts';
import { type Fleet, type SimDeviceSpec, startFleet } from '../sim/index.ts';
import { archivedRows, connectorFor, tempDir, waitFor } from './fault-support.ts';

const credentials = { user: 'fleet-admin', password: 'fleet-secret' };
const logger = createLogger('fault-fleet', { level: 'silent' });
const DEVICES = 40;
/** Positions of the faulty devices: 10% unreachable, 5% slow past the timeout, 5% failing. */
const FAULTS: Record<number, SimDeviceSpec['faults']> = {
  3: { unreachable: true },
  7: { slowResponseMs: 2500 },
  11: { failStatus: true },
  15: { unreachable: true },
  19: { unreachable: true },
  23: { slowResponseMs: 2500 },
  27: { failStatus: true },
  31: { unreachable: true },
};
const EXPECTED_STATE: Record<string, string> = {
  unreachable: 'Unreachable',
  slowResponseMs: 'TimedOut',
  failStatus: 'Failed',
};

describe('a fleet with unreachable, slow and failing devices', () => {
  let cloud: TestCloud;
  let fleet: Fleet;
  let dir: string;
  let devices: BatchDevice[];
  const connectors: { service: ConnectorService; running: Promise<void> }[] = [];
  const queues: Record<string, string> = {};

  beforeAll(async () => {
    cloud = await startTestCloud('fleet-');
    fleet = await startFleet({
      devices: Array.from({ length: DEVICES }, (_, i) => ({
        computerName: `FL-${String(i).padStart(4, '0')}`,
        faults: FAULTS[i],
      })),
      subnet: '127.94.0.0/16',
      siteId: 'site-a',
      ...credentials,
    });
    devices = fleet.devices.map((d) => ({
      deviceId: d.computerName.toLowerCase(),
      computerName: d.computerName,
      address: d.address,
      port: d.port,
    }));
    dir = tempDir('fleet');
    await startConnector('site-a', { throttleLimit: 20 });
    // A site that does not run queued actions: batches older than 60 s end as Expired.
    await startConnector('site-b', { queuedActions: false, batchTtlSeconds: 60 });
  });

  afterAll(async () => {
    for (const { service } of connectors) service.stop();
    await Promise.all(connectors.map((c) => c.running));
    await fleet?.close();
    await cloud?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function startConnector(siteId: string, settings: Record<string, unknown>) {
    queues[siteId] = await createSiteQueue(cloud.sqsClient, cloud.prefix, siteId);
    const { service } = connectorFor({
      siteId,
      dir,
      prefix: cloud.prefix,
      dynamodbEndpoint: cloud.dynamodb.endpoint,
      sqsEndpoint: cloud.sqs.endpoint,
      queueUrl: queues[siteId] ?? '',
      credentials,
      logger,
      settings,
    });
    connectors.push({ service, running: service.run() });
  }

  async function submit(
    operationId: string,
    siteId: string,
    overrides: Partial<BatchMessage>,
  ): Promise<void> {
    const batchDevices = overrides.devices ?? devices;
    await putOperation(cloud, operationId, batchDevices.length);
    const batch = statusBatch(operationId, batchDevices.length, {
      siteId,
      devices: batchDevices,
      operationTotal: batchDevices.length,
      force: true,
      ...overrides,
    });
    await sendBody(cloud.sqsClient, queues[siteId] ?? '', JSON.stringify(batch));
  }

  /** Waits for the operation's final status as stored, then reads its per-state counts. */
  async function finished(operationId: string) {
    let status: unknown;
    await waitFor(
      `operation ${operationId} to finish`,
      async () => {
        const out = await cloud.documents.send(
          new GetCommand({
            TableName: tableName(cloud.prefix, 'operations'),
            Key: { operationId },
          }),
        );
        status = out.Item?.status;
        return status !== 'Pending' && status !== 'InProgress';
      },
      { timeoutMs: 40_000, intervalMs: 100 },
    );
    const { counts } = await readBatchProgress(cloud.documents, cloud.prefix, operationId);
    return { status, counts };
  }

  function archivedStates(siteId: string, operationId: string): Map<string, string> {
    const rows = archivedRows(path.join(dir, siteId, 'archive.db'), operationId);
    return new Map(rows.map((r) => [r.device_id, r.status]));
  }

  it('ends each device in the state its fault calls for', async () => {
    await submit('op-fleetfaults01', 'site-a', { rateControl: { timeoutSeconds: 1 } });

    const outcome = await finished('op-fleetfaults01');

    expect(outcome).toEqual({
      status: 'CompletedWithErrors',
      counts: { Success: 32, Unreachable: 4, TimedOut: 2, Failed: 2 },
    });
    const states = archivedStates('site-a', 'op-fleetfaults01');
    devices.forEach((device, i) => {
      const fault = Object.keys(FAULTS[i] ?? {})[0];
      const expected = fault ? EXPECTED_STATE[fault] : 'Success';
      expect(states.get(device.deviceId), device.deviceId).toBe(expected);
    });
  });

  it('cancels the rest of the operation right after the error that passes maxErrors', async () => {
    // One device at a time, in order: errors at positions 3, 7, 11 and 15; the fourth passes
    // maxErrors 3, so positions 16 to 39 are never started.
    await submit('op-fleetmaxerr01', 'site-a', {
      rateControl: { timeoutSeconds: 1, throttleLimit: 1, maxErrors: 3 },
    });

    const outcome = await finished('op-fleetmaxerr01');

    expect(outcome).toEqual({
      status: 'CompletedWithErrors',
      counts: { Success: 12, Unreachable: 2, TimedOut: 1, Failed: 1, Cancelled: 24 },
    });
    const states = archivedStates('site-a', 'op-fleetmaxerr01');
    const cancelled = devices.filter((d) => states.get(d.deviceId) === 'Cancelled');
    expect(cancelled.map((d) => d.deviceId)).toEqual(devices.slice(16).map((d) => d.deviceId));
  });

  it('ends a stale batch as Expired at a site without queued actions, and runs a fresh one', async () => {
    const healthy = devices.filter((_, i) => FAULTS[i] === undefined).slice(0, 5);
    const twoHoursAgo = new Date(Date.now() - 2 * 3600 * 1000).toISOString();
    await submit('op-fleetstale001', 'site-b', { devices: healthy, createdAt: twoHoursAgo });
    await submit('op-fleetfresh001', 'site-b', { devices: healthy });

    const stale = await finished('op-fleetstale001');
    const fresh = await finished('op-fleetfresh001');

    expect(stale).toEqual({ status: 'Failed', counts: { Expired: 5 } });
    expect(fresh).toEqual({ status: 'Success', counts: { Success: 5 } });
  });

  it('counts Expired as a non-success when deciding the outcome', () => {
    expect(decideOperationStatus({ Expired: 3 }, 3)).toBe('Failed');
    expect(decideOperationStatus({ Success: 2, Expired: 1 }, 3)).toBe('CompletedWithErrors');
    expect(decideOperationStatus({ Cancelled: 2, Expired: 1 }, 3)).toBe('CompletedWithErrors');
  });
});
