import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startDynamoDb } from '../../local/emulators.ts';
import { createTables } from '../../local/provision.ts';
import { createDocumentClient } from '../../shared/aws.ts';
import type { CloudEnv } from '../../shared/config.ts';
import { MAX_STORED_OUTPUT_CHARS } from '../../shared/items.ts';
import { putResultBatch } from '../../shared/result-batch-store.ts';
import type { DeviceResult } from '../../shared/schemas/index.ts';
import { listResultsPage, type ResultKey } from './results-store.ts';

const OPERATION_ID = 'op-results00001';

function result(batchId: string, i: number, overrides: Partial<DeviceResult> = {}): DeviceResult {
  return {
    operationId: OPERATION_ID,
    deviceId: `${batchId}-dev-${i}`,
    siteId: 'site-a',
    batchId,
    status: i % 3 === 0 ? 'Failed' : 'Success',
    exitCode: i % 3 === 0 ? 1 : 0,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:02.500Z',
    durationMs: 2500,
    ...overrides,
  };
}

describe('listResultsPage', () => {
  let dynamo: Emulator;
  let env: CloudEnv;
  let doc: ReturnType<typeof createDocumentClient>;

  beforeAll(async () => {
    dynamo = await startDynamoDb();
    env = {
      WINFLEET_PREFIX: 'rs-',
      AWS_REGION: 'us-east-1',
      WINFLEET_DYNAMODB_ENDPOINT: dynamo.endpoint,
    };
    doc = createDocumentClient(env);
    const admin = new DynamoDBClient({
      region: env.AWS_REGION,
      endpoint: dynamo.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await createTables(admin, env.WINFLEET_PREFIX);
    admin.destroy();
    for (const batchId of ['b-0', 'b-1', 'b-2']) {
      const results = Array.from({ length: 7 }, (_, i) => result(batchId, i));
      const ref = { operationId: OPERATION_ID, siteId: 'site-a', batchId };
      await putResultBatch(doc, env.WINFLEET_PREFIX, ref, results);
    }
    const big = result('b-3', 0, { stdout: 'y'.repeat(5000), stderr: 'oops' });
    await putResultBatch(doc, env.WINFLEET_PREFIX, big, [big, result('b-3', 1)]);
  });
  afterAll(async () => {
    doc.destroy();
    await dynamo.stop();
  });

  async function all(limit: number, status?: 'Failed' | 'Success') {
    const items: DeviceResult[] = [];
    let startKey: ResultKey | undefined;
    do {
      const page = await listResultsPage(doc, env, {
        operationId: OPERATION_ID,
        status,
        limit,
        startKey,
      });
      expect(page.items.length).toBeLessThanOrEqual(limit);
      items.push(...page.items);
      startKey = page.lastKey;
    } while (startKey);
    return items;
  }

  it('pages through every device of every batch item exactly once, in order', async () => {
    for (const limit of [1, 3, 7, 100]) {
      const ids = (await all(limit)).map((r) => r.deviceId);
      expect(ids).toHaveLength(23);
      expect(new Set(ids).size).toBe(23);
      expect(ids).toEqual([...ids].sort());
    }
  });

  it('filters by state across batch items', async () => {
    const failed = await all(2, 'Failed');
    expect(failed.map((r) => r.deviceId)).toEqual([
      'b-0-dev-0',
      'b-0-dev-3',
      'b-0-dev-6',
      'b-1-dev-0',
      'b-1-dev-3',
      'b-1-dev-6',
      'b-2-dev-0',
      'b-2-dev-3',
      'b-2-dev-6',
      'b-3-dev-0',
    ]);
  });

  it('rebuilds each result with its times and its output stored apart', async () => {
    const items = await all(100);
    expect(items.find((r) => r.deviceId === 'b-1-dev-1')).toEqual({
      operationId: OPERATION_ID,
      deviceId: 'b-1-dev-1',
      siteId: 'site-a',
      batchId: 'b-1',
      status: 'Success',
      exitCode: 0,
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:02.500Z',
      durationMs: 2500,
    });
    expect(items.find((r) => r.deviceId === 'b-3-dev-0')).toMatchObject({
      stdout: 'y'.repeat(5000),
      stderr: 'oops',
    });
  });

  it('flags a stdout or stderr cut to the stored length, with its full length', async () => {
    const operationId = 'op-results00002';
    const ref = { operationId, siteId: 'site-a', batchId: 'b-0' };
    const long = (n: number, char: string) => char.repeat(n);
    const results = [
      { ...result('b-0', 0), operationId, stdout: long(40_000, 'o'), stderr: long(50, 'e') },
      { ...result('b-0', 1), operationId, stdout: long(MAX_STORED_OUTPUT_CHARS, 'o') },
      { ...result('b-0', 2), operationId, stderr: long(MAX_STORED_OUTPUT_CHARS + 1, 'e') },
    ];
    await putResultBatch(doc, env.WINFLEET_PREFIX, ref, results);

    const page = await listResultsPage(doc, env, { operationId, limit: 10 });

    const [cut, whole, cutErr] = page.items;
    expect(cut).toMatchObject({ stdoutTruncated: true, stdoutChars: 40_000 });
    expect(cut?.stdout).toHaveLength(MAX_STORED_OUTPUT_CHARS);
    expect(cut).not.toHaveProperty('stderrTruncated');
    expect(whole?.stdout).toHaveLength(MAX_STORED_OUTPUT_CHARS);
    expect(whole).not.toHaveProperty('stdoutTruncated');
    expect(cutErr).toMatchObject({
      stderrTruncated: true,
      stderrChars: MAX_STORED_OUTPUT_CHARS + 1,
    });
  });
});
