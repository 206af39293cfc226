import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/logger.ts';
import {
  getDeviceDetails,
  putResultBatch,
  readBatchProgress,
  readResultBatches,
} from '../../shared/result-batch-store.ts';
import { expandEntry } from '../../shared/result-batches.ts';
import type { DeviceResult, FinalDeviceState } from '../../shared/schemas/result.ts';
import { tableName } from '../../shared/tables.ts';
import { putOperation, startTestCloud, type TestCloud } from '../testing/cloud.ts';
import { type OperationProgress, ResultDelivery } from './result-delivery.ts';

const silent = createLogger('test', { level: 'silent' });

function result(
  operationId: string,
  i: number,
  status: FinalDeviceState = 'Success',
  batchId = 'site-a-00000',
): DeviceResult {
  return {
    operationId,
    deviceId: `dev-${i}`,
    siteId: 'site-a',
    batchId,
    status,
    exitCode: status === 'Success' ? 0 : 1,
    startedAt: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString(),
    finishedAt: new Date(Date.UTC(2025, 0, 1, 0, 0, i + 1)).toISOString(),
    durationMs: 1000,
  };
}

function results(operationId: string, from: number, to: number, batchId?: string) {
  return Array.from({ length: to - from }, (_, k) =>
    result(operationId, from + k, (from + k) % 4 === 0 ? 'Failed' : 'Success', batchId),
  );
}

describe('ResultDelivery', () => {
  let cloud: TestCloud;
  let delivery: ResultDelivery;
  const progress: { operationId: string; progress: OperationProgress }[] = [];

  beforeAll(async () => {
    cloud = await startTestCloud();
    delivery = new ResultDelivery({
      client: cloud.documents,
      prefix: cloud.prefix,
      logger: silent,
      onProgress: (operationId, p) => progress.push({ operationId, progress: p }),
    });
  });
  afterAll(() => cloud.stop());

  async function operation(operationId: string) {
    const out = await cloud.documents.send(
      new GetCommand({ TableName: tableName(cloud.prefix, 'operations'), Key: { operationId } }),
    );
    return out.Item;
  }

  async function storedIds(operationId: string): Promise<string[]> {
    const batches = await readResultBatches(cloud.documents, cloud.prefix, operationId);
    return batches.flatMap((b) => b.entries.map((e) => e.d)).sort();
  }

  it('counts a batch once when it is delivered three times', async () => {
    await putOperation(cloud, 'op-repeat00001', 10);
    const batch = results('op-repeat00001', 0, 10);

    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push(await delivery.deliverResults(batch));

    expect(outcomes.map((o) => [o.delivered, o.duplicate])).toEqual([
      [10, 0],
      [0, 10],
      [0, 10],
    ]);
    expect(await readBatchProgress(cloud.documents, cloud.prefix, 'op-repeat00001')).toEqual({
      done: 10,
      counts: { Failed: 3, Success: 7 },
      batches: 1,
    });
    expect(await operation('op-repeat00001')).toMatchObject({
      status: 'CompletedWithErrors',
      done: 10,
      counts: { Failed: 3, Success: 7 },
      finishedAt: expect.any(String),
    });
  });

  it('ends with the whole batch after a partial batch and a full redelivery', async () => {
    await putOperation(cloud, 'op-partial0001', 8);

    await delivery.deliverResults(results('op-partial0001', 0, 3));
    expect(await operation('op-partial0001')).toMatchObject({ status: 'Pending', done: 0 });
    const full = await delivery.deliverResults(results('op-partial0001', 0, 8));

    expect([full.delivered, full.duplicate]).toEqual([5, 3]);
    expect(await storedIds('op-partial0001')).toHaveLength(8);
    expect(await operation('op-partial0001')).toMatchObject({
      status: 'CompletedWithErrors',
      done: 8,
      counts: { Failed: 2, Success: 6 },
    });
  });

  it('stays exact when a connector dies between its writes and another redelivers', async () => {
    await putOperation(cloud, 'op-crash000001', 6);
    // The first connector wrote the batch item and died before reading progress or settling.
    await putResultBatch(
      cloud.documents,
      cloud.prefix,
      { operationId: 'op-crash000001', batchId: 'site-a-00000', siteId: 'site-a' },
      results('op-crash000001', 0, 4),
    );
    expect(await operation('op-crash000001')).toMatchObject({ status: 'Pending' });

    // The message came back to another connector, which ran the rest and redelivers it all.
    const redelivered = new ResultDelivery({
      client: cloud.documents,
      prefix: cloud.prefix,
      logger: silent,
    });
    await redelivered.deliverResults(results('op-crash000001', 0, 6));

    expect(await operation('op-crash000001')).toMatchObject({
      status: 'CompletedWithErrors',
      done: 6,
      counts: { Failed: 2, Success: 4 },
    });
  });

  it('keeps the union when two connectors deliver overlapping parts of one batch at once', async () => {
    await putOperation(cloud, 'op-together001', 40);
    const other = new ResultDelivery({
      client: cloud.documents,
      prefix: cloud.prefix,
      logger: silent,
    });

    const a = results('op-together001', 0, 25);
    const b = results('op-together001', 15, 40);
    await Promise.all([
      delivery.deliverResults(a),
      other.deliverResults(b),
      delivery.deliverResults(a.slice(0, 10)),
      other.deliverResults(b.slice(5)),
    ]);

    expect(await storedIds('op-together001')).toEqual(
      Array.from({ length: 40 }, (_, i) => `dev-${i}`).sort(),
    );
    expect(await operation('op-together001')).toMatchObject({
      done: 40,
      counts: { Failed: 10, Success: 30 },
      status: 'CompletedWithErrors',
    });
  });

  it('keeps the first final result of a device that is delivered twice differently', async () => {
    await putOperation(cloud, 'op-first000001', 2);

    await delivery.deliverResults([result('op-first000001', 0, 'TimedOut')]);
    await delivery.deliverResults([
      result('op-first000001', 0, 'Success'),
      result('op-first000001', 1, 'Success'),
    ]);

    expect(await operation('op-first000001')).toMatchObject({
      done: 2,
      counts: { TimedOut: 1, Success: 1 },
    });
  });

  it('sums batches of several sites and reports progress after each write', async () => {
    await putOperation(cloud, 'op-progress001', 6);
    progress.length = 0;

    await delivery.deliverResults(results('op-progress001', 1, 4, 'site-a-00000'));
    await delivery.deliverResults(results('op-progress001', 4, 7, 'site-b-00000'));

    expect(progress.map((p) => [p.progress.done, p.progress.status])).toEqual([
      [3, 'Pending'],
      [6, 'CompletedWithErrors'],
    ]);
  });

  it('stores a large output in its own item and keeps small ones inline', async () => {
    await putOperation(cloud, 'op-outputs0001', 2, 'script');
    const big = { ...result('op-outputs0001', 0), stdout: 'x'.repeat(40_000), stderr: 'warn' };
    const small = { ...result('op-outputs0001', 1), stdout: 'hello' };

    await delivery.deliverResults([big, small]);

    const [batch] = await readResultBatches(cloud.documents, cloud.prefix, 'op-outputs0001');
    if (!batch) throw new Error('no batch item');
    const details = await getDeviceDetails(cloud.documents, cloud.prefix, 'op-outputs0001', [
      'dev-0',
      'dev-1',
    ]);
    expect([...details.keys()]).toEqual(['dev-0']);
    const [first, second] = batch.entries.map((e) => expandEntry(batch, e, details.get(e.d)));
    expect(first?.stdout).toHaveLength(32 * 1024);
    expect(first).toMatchObject({ stderr: 'warn', startedAt: big.startedAt });
    expect(second).toEqual({ ...small, exitCode: 0 });
  });

  it("writes a device's state only when it changed", async () => {
    await putOperation(cloud, 'op-devices0001', 3);
    const devices = tableName(cloud.prefix, 'devices');
    for (const deviceId of ['dev-0', 'dev-1', 'dev-2']) {
      await cloud.documents.send(
        new PutCommand({ TableName: devices, Item: { deviceId, lastStatus: 'Success' } }),
      );
    }

    await delivery.deliverResults(
      [
        { ...result('op-devices0001', 0), status: 'Unreachable' },
        result('op-devices0001', 1),
        { ...result('op-devices0001', 2), status: 'Cached' },
      ],
      {
        previousStatus: new Map([
          ['dev-0', 'Success'],
          ['dev-1', 'Success'],
          ['dev-2', 'Failed'],
        ]),
      },
    );

    const read = async (deviceId: string) =>
      (await cloud.documents.send(new GetCommand({ TableName: devices, Key: { deviceId } }))).Item;
    expect(await read('dev-0')).toEqual({ deviceId: 'dev-0', lastStatus: 'Unreachable' });
    expect(await read('dev-1')).toEqual({ deviceId: 'dev-1', lastStatus: 'Success' });
    expect(await read('dev-2')).toEqual({ deviceId: 'dev-2', lastStatus: 'Success' });
  });

  it("leaves a device's state and lastSeenAt alone for a device never contacted", async () => {
    await putOperation(cloud, 'op-untouched01', 4);
    const devices = tableName(cloud.prefix, 'devices');
    const before = { lastStatus: 'Success', lastSeenAt: '2025-01-01T00:00:00.000Z' };
    for (const deviceId of ['dev-0', 'dev-1', 'dev-2', 'dev-3']) {
      await cloud.documents.send(
        new PutCommand({ TableName: devices, Item: { deviceId, ...before } }),
      );
    }
    const unrun = (i: number, status: FinalDeviceState): DeviceResult => {
      const at = new Date(Date.UTC(2025, 0, 2, 0, 0, i)).toISOString();
      const { exitCode: _, ...rest } = result('op-untouched01', i, status);
      return { ...rest, error: 'not run', startedAt: at, finishedAt: at, durationMs: 0 };
    };

    await delivery.deliverResults(
      [
        unrun(0, 'Cancelled'),
        unrun(1, 'Expired'),
        unrun(2, 'Failed'),
        result('op-untouched01', 3, 'Failed'),
      ],
      { previousStatus: new Map() },
    );

    const read = async (deviceId: string) =>
      (await cloud.documents.send(new GetCommand({ TableName: devices, Key: { deviceId } }))).Item;
    for (const deviceId of ['dev-0', 'dev-1', 'dev-2']) {
      expect(await read(deviceId)).toEqual({ deviceId, ...before });
    }
    expect(await read('dev-3')).toMatchObject({
      lastStatus: 'Failed',
      lastSeenAt: '2025-01-01T00:00:04.000Z',
    });
  });

  it('delivers one result through the single-result call', async () => {
    await putOperation(cloud, 'op-single00001', 1);

    const outcomes = [
      await delivery.deliver(result('op-single00001', 0)),
      await delivery.deliver(result('op-single00001', 0)),
    ];

    expect(outcomes).toEqual(['delivered', 'duplicate']);
    expect(await operation('op-single00001')).toMatchObject({ status: 'Success', done: 1 });
  });
});
