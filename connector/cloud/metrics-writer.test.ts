import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/logger.ts';
import type { DeviceResult } from '../../shared/schemas/result.ts';
import { tableName } from '../../shared/tables.ts';
import { startTestCloud, type TestCloud } from '../testing/cloud.ts';
import { statusJson } from '../testing/test-double-transport.ts';
import { MetricsWriter } from './metrics-writer.ts';

function statusResult(i: number, overrides: Partial<DeviceResult> = {}): DeviceResult {
  return {
    operationId: 'op-metrics0001',
    deviceId: `dev-${i}`,
    siteId: 'site-a',
    batchId: 'b-1',
    status: 'Success',
    exitCode: 0,
    output: JSON.parse(statusJson(`DEV-${i}`)),
    startedAt: '2025-01-01T00:00:00.000Z',
    finishedAt: '2025-01-01T00:00:01.000Z',
    durationMs: 1000,
    ...overrides,
  };
}

describe('MetricsWriter', () => {
  let cloud: TestCloud;

  beforeAll(async () => {
    cloud = await startTestCloud();
  });
  afterAll(() => cloud.stop());

  it('writes one point per successful status result, in batches of 25', async () => {
    const writer = new MetricsWriter({
      client: cloud.documents,
      prefix: cloud.prefix,
      logger: createLogger('test', { level: 'silent' }),
    });

    for (let i = 0; i < 30; i += 1) writer.add(statusResult(i));
    writer.add(statusResult(99, { status: 'Failed', output: undefined }));
    writer.add(statusResult(98, { output: { not: 'a status document' } }));
    await writer.close();

    const out = await cloud.documents.send(
      new ScanCommand({ TableName: tableName(cloud.prefix, 'metrics') }),
    );
    expect(out.Items).toHaveLength(30);
    expect(out.Items?.find((item) => item.deviceId === 'dev-7')).toMatchObject({
      timestamp: '2025-01-01T00:00:01.000Z',
      cpuPercent: 12.5,
      diskFreeBytes: 50_000_000_000,
      expiresAt: expect.any(Number),
    });
  });
});
