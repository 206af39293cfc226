import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/logger.ts';
import { decodePoints } from '../../shared/metric-batches.ts';
import type { CompactResult } from '../../shared/result-batches.ts';
import { tableName } from '../../shared/tables.ts';
import { startTestCloud, type TestCloud } from '../testing/cloud.ts';
import { statusJson } from '../testing/test-double-transport.ts';
import { MetricsWriter } from './metrics-writer.ts';

const BASE_TIME = '2025-01-01T00:00:00.000Z';

function entry(i: number, overrides: Partial<CompactResult> = {}): CompactResult {
  return {
    d: `dev-${i}`,
    s: 'Success',
    x: 0,
    t: 0,
    f: 1000 + i,
    ms: 1000,
    o: JSON.parse(statusJson(`DEV-${i}`)),
    ...overrides,
  };
}

describe('MetricsWriter', () => {
  let cloud: TestCloud;

  beforeAll(async () => {
    cloud = await startTestCloud();
  });
  afterAll(() => cloud.stop());

  async function scan() {
    const out = await cloud.documents.send(
      new ScanCommand({ TableName: tableName(cloud.prefix, 'metrics') }),
    );
    return out.Items ?? [];
  }

  it("writes one item per batch with every successful status result's point", async () => {
    const writer = new MetricsWriter({
      client: cloud.documents,
      prefix: cloud.prefix,
      logger: createLogger('test', { level: 'silent' }),
    });
    const entries = Array.from({ length: 30 }, (_, i) => entry(i));
    entries.push(entry(99, { s: 'Failed', o: undefined }), entry(98, { o: { not: 'status' } }));

    writer.write({
      operationId: 'op-metrics0001',
      batchId: 'site-a-00000',
      siteId: 'site-a',
      baseTime: BASE_TIME,
      entries,
    });
    // A slower write of the same batch with fewer points does not replace it.
    writer.write({
      operationId: 'op-metrics0001',
      batchId: 'site-a-00000',
      siteId: 'site-a',
      baseTime: BASE_TIME,
      entries: entries.slice(0, 5),
    });
    await writer.close();

    const items = await scan();
    expect(items).toHaveLength(1);
    const [item] = items;
    expect(item).toMatchObject({
      deviceId: 'site#site-a',
      timestamp: `${BASE_TIME}#op-metrics0001#site-a-00000`,
      pointCount: 30,
      expiresAt: expect.any(Number),
    });
    const points = decodePoints(item?.points, Date.parse(BASE_TIME));
    expect(points).toHaveLength(30);
    expect(points.find((p) => p.deviceId === 'dev-7')).toEqual({
      deviceId: 'dev-7',
      timestamp: '2025-01-01T00:00:01.007Z',
      uptimeSeconds: expect.any(Number),
      cpuPercent: 12.5,
      memoryTotalBytes: expect.any(Number),
      memoryFreeBytes: expect.any(Number),
      diskFreeBytes: 50_000_000_000,
      diskTotalBytes: expect.any(Number),
    });
  });
});
