import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../shared/logger.ts';
import { readBatchProgress } from '../shared/result-batch-store.ts';
import { Archive } from './archive/index.ts';
import { BatchResults } from './batch-results.ts';
import { unrunResult } from './batch-worker.ts';
import { ResultDelivery } from './cloud/index.ts';
import { eventually, statusBatch } from './testing/batches.ts';
import { putOperation, startTestCloud, type TestCloud } from './testing/cloud.ts';

const logger = createLogger('test', { level: 'silent' });

describe('BatchResults', () => {
  let cloud: TestCloud;
  let dir: string;
  let archive: Archive;

  beforeAll(async () => {
    cloud = await startTestCloud();
    dir = mkdtempSync(path.join(tmpdir(), 'winfleet-results-'));
    archive = new Archive(path.join(dir, 'archive.db'));
  });
  afterAll(async () => {
    archive.close();
    rmSync(dir, { recursive: true, force: true });
    await cloud.stop();
  });

  function collector(batch: ReturnType<typeof statusBatch>) {
    const delivery = new ResultDelivery({ client: cloud.documents, prefix: cloud.prefix, logger });
    const signal = new AbortController().signal;
    return new BatchResults({
      batch,
      delivery,
      archive,
      logger,
      signal,
      progressIntervalMs: 60_000,
    });
  }

  it('delivers a failure at once when the operation sets maxErrors', async () => {
    const batch = statusBatch('op-promptfail1', 3, { rateControl: { maxErrors: 1 } });
    await putOperation(cloud, batch.operationId, 3);
    const results = collector(batch);

    const [device] = batch.devices;
    if (!device) throw new Error('the batch has no device');
    // Only a flush would deliver it before the 60 s tick; add must start one itself.
    results.add(unrunResult(batch, device, 'Failed', 'exit 1'));

    const progress = () => readBatchProgress(cloud.documents, cloud.prefix, batch.operationId);
    await eventually(async () => (await progress()).done === 1);
    results.stop();
    expect((await progress()).counts).toEqual({ Failed: 1 });
  });
});
