import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/logger.ts';
import type { DeviceResult, FinalDeviceState } from '../../shared/schemas/result.ts';
import { tableName } from '../../shared/tables.ts';
import { putOperation, startTestCloud, type TestCloud } from '../testing/cloud.ts';
import { ResultDelivery } from './result-delivery.ts';

function result(operationId: string, deviceId: string, status: FinalDeviceState): DeviceResult {
  return {
    operationId,
    deviceId,
    siteId: 'site-a',
    batchId: 'b-1',
    status,
    exitCode: status === 'Success' ? 0 : 1,
    stdout: 'x'.repeat(40_000),
    startedAt: '2025-01-01T00:00:00.000Z',
    finishedAt: '2025-01-01T00:00:01.000Z',
    durationMs: 1000,
  };
}

describe('ResultDelivery', () => {
  let cloud: TestCloud;
  let delivery: ResultDelivery;

  beforeAll(async () => {
    cloud = await startTestCloud();
    delivery = new ResultDelivery({
      client: cloud.documents,
      prefix: cloud.prefix,
      logger: createLogger('test', { level: 'silent' }),
    });
  });

  afterAll(() => cloud.stop());

  async function operation(operationId: string) {
    const out = await cloud.documents.send(
      new GetCommand({ TableName: tableName(cloud.prefix, 'operations'), Key: { operationId } }),
    );
    return out.Item;
  }

  it('counts a result once when it is delivered twice', async () => {
    await putOperation(cloud, 'op-twice00001', 3);
    const first = result('op-twice00001', 'dev-1', 'Success');

    const outcomes = [await delivery.deliver(first), await delivery.deliver(first)];

    expect(outcomes).toEqual(['delivered', 'duplicate']);
    expect(await operation('op-twice00001')).toMatchObject({
      done: 1,
      counts: { Success: 1 },
      status: 'InProgress',
    });
  });

  it('counts concurrent deliveries exactly and settles the operation on the last one', async () => {
    await putOperation(cloud, 'op-concurrent1', 4);
    const results = [
      result('op-concurrent1', 'dev-1', 'Success'),
      result('op-concurrent1', 'dev-2', 'Success'),
      result('op-concurrent1', 'dev-3', 'Failed'),
      result('op-concurrent1', 'dev-4', 'Unreachable'),
    ];

    await Promise.all([...results, ...results].map((r) => delivery.deliver(r)));

    const stored = await operation('op-concurrent1');
    expect(stored).toMatchObject({
      done: 4,
      counts: { Success: 2, Failed: 1, Unreachable: 1 },
      status: 'CompletedWithErrors',
    });
    expect(stored?.finishedAt).toEqual(expect.any(String));
  });

  it('stores the result with its output truncated to the stored limit', async () => {
    await putOperation(cloud, 'op-truncate01', 1);

    await delivery.deliver(result('op-truncate01', 'dev-1', 'Success'));

    const out = await cloud.documents.send(
      new GetCommand({
        TableName: tableName(cloud.prefix, 'results'),
        Key: { operationId: 'op-truncate01', deviceId: 'dev-1' },
      }),
    );
    expect(out.Item?.stdout).toHaveLength(32 * 1024);
    expect(out.Item?.expiresAt).toEqual(expect.any(Number));
  });
});
