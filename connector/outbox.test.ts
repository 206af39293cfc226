import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../shared/logger.ts';
import type { DeviceResult } from '../shared/schemas/result.ts';
import { tempDir } from '../test/fault-support.ts';
import { Archive } from './archive/index.ts';
import { type OutboxRound, OutboxSync, type ResultSink } from './outbox.ts';

const logger = createLogger('test', { level: 'silent' });
const HOUR_AGO = new Date(Date.now() - 3600_000).toISOString();

function result(deviceId: string, batchId = 'b1', finishedAt = HOUR_AGO): DeviceResult {
  return {
    operationId: 'op-outbox0001',
    deviceId,
    siteId: 'site-a',
    batchId,
    status: 'Success',
    startedAt: finishedAt,
    finishedAt,
    durationMs: 0,
  };
}

/** A cloud that refuses the first `failures` deliveries, then accepts; records each call. */
function flakyCloud(failures: number): ResultSink & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    async deliver(results) {
      calls.push(results.map((r) => r.deviceId));
      if (calls.length <= failures) throw new Error('connect ECONNREFUSED');
    },
  };
}

describe('OutboxSync', () => {
  let dir: string;
  let archive: Archive;

  beforeEach(() => {
    dir = tempDir('outbox');
    archive = new Archive(path.join(dir, 'archive.db'));
  });
  afterEach(() => {
    archive.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers each batch results in one call and marks them delivered', async () => {
    archive.insertResults([result('d1'), result('d2'), result('d3', 'b2')]);
    const cloud = flakyCloud(0);
    const outbox = new OutboxSync({ archive, delivery: cloud, logger, syncIntervalMs: 1000 });

    const round = await outbox.deliverOnce(new AbortController().signal);

    expect(round).toMatchObject({ delivered: 3, failed: false });
    expect(cloud.calls.map((c) => c.sort())).toEqual([['d1', 'd2'], ['d3']]);
    expect(outbox.size).toBe(0);
  });

  it('leaves young results to the batch worker unless a held batch waits for them', async () => {
    const now = new Date().toISOString();
    archive.insertResults([result('young', 'b1', now)]);
    const outbox = new OutboxSync({ archive, delivery: flakyCloud(0), logger, syncIntervalMs: 5 });
    const stop = new AbortController();

    expect((await outbox.deliverOnce(stop.signal)).delivered).toBe(0);
    const running = outbox.run(stop.signal);
    const delivered = await outbox.waitForDelivery(
      [{ operationId: 'op-outbox0001', deviceId: 'young' }],
      stop.signal,
    );
    stop.abort();
    await running;

    expect(delivered).toBe(true);
    expect(outbox.size).toBe(0);
  });

  it('backs off after failed rounds, doubling up to the sync interval, then delivers', async () => {
    archive.insertResults([result('d1')]);
    const rounds: OutboxRound[] = [];
    const stop = new AbortController();
    const outbox = new OutboxSync({
      archive,
      delivery: flakyCloud(4),
      logger,
      syncIntervalMs: 40,
      retryBaseMs: 10,
      onRound: (round) => {
        rounds.push(round);
        if (round.delivered > 0) stop.abort();
      },
    });

    await outbox.run(stop.signal);

    expect(rounds.map((r) => r.retryInMs)).toEqual([10, 20, 40, 40, undefined]);
    expect(rounds.map((r) => r.failed)).toEqual([true, true, true, true, false]);
    expect(outbox.backingOff).toBe(false);
    expect(outbox.size).toBe(0);
  });

  it('answers false at once for a device without an archived result', async () => {
    const outbox = new OutboxSync({ archive, delivery: flakyCloud(0), logger, syncIntervalMs: 5 });

    const delivered = await outbox.waitForDelivery(
      [{ operationId: 'op-outbox0001', deviceId: 'never-run' }],
      new AbortController().signal,
    );

    expect(delivered).toBe(false);
  });
});
