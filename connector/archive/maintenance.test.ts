import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/logger.ts';
import type { DeviceResult } from '../../shared/schemas/result.ts';
import { Archive } from './archive.ts';
import { prepareColdArchive } from './cold.ts';
import { ArchiveMaintenance } from './maintenance.ts';
import { queryArchive } from './query.ts';

const logger = createLogger('test', { level: 'silent' });
const NOW = new Date('2025-03-01T00:00:00.000Z');
const DAY_MS = 24 * 3600 * 1000;
const OP = 'op-0000000007';

function result(i: number, finishedAt: Date, operationId = 'op-0000000001'): DeviceResult {
  const output = {
    computerName: `WS-${i}`,
    uptimeSeconds: 100,
    cpuPercent: 5,
    memoryTotalBytes: 8,
    memoryFreeBytes: 4,
    diskFreeBytes: 2,
    diskTotalBytes: 3,
    osVersion: '10.0',
  };
  return {
    operationId,
    deviceId: `dev-${i}`,
    siteId: 'site-a',
    batchId: 'b-1',
    status: 'Success',
    exitCode: 0,
    stdout: `${JSON.stringify(output)}${' '.repeat(400)}`,
    output,
    startedAt: finishedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: 5,
  };
}

function daysAgo(days: number): Date {
  return new Date(NOW.getTime() - days * DAY_MS);
}

describe('ArchiveMaintenance', () => {
  let dir: string;
  let file: string;
  let archive: Archive;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'winfleet-maintenance-'));
    file = path.join(dir, 'archive.db');
    archive = new Archive(file);
  });

  afterEach(() => {
    archive.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function count(sql: string): number {
    const db = new Database(file, { readonly: true });
    const row = db.prepare(sql).pluck().get();
    db.close();
    return Number(row);
  }

  function cold(month: string): string {
    return path.join(dir, `archive-${month}.db`);
  }

  function devices(db: string, table: 'results' | 'metrics'): string[] {
    const conn = new Database(db, { readonly: true, fileMustExist: true });
    const rows = conn.prepare(`SELECT device_id FROM ${table} ORDER BY device_id`).pluck().all();
    conn.close();
    return rows.map(String);
  }

  it('moves delivered results and metrics past the retention to the cold file of their month', async () => {
    archive.recordOperation('op-old', 'status', daysAgo(80).toISOString());
    archive.recordOperation('op-new', 'status', daysAgo(1).toISOString());
    const december = Array.from({ length: 12 }, (_, i) => result(i, daysAgo(80), 'op-old'));
    const january = Array.from({ length: 13 }, (_, i) => result(100 + i, daysAgo(40), 'op-old'));
    const lastExpired = result(200, new Date('2025-01-29T23:59:59.999Z'), 'op-old');
    const firstKept = result(201, new Date('2025-01-30T00:00:00.000Z'), 'op-old');
    const undelivered = result(99, daysAgo(40), 'op-old');
    const recent = Array.from({ length: 5 }, (_, i) => result(i, daysAgo(1), 'op-new'));
    const delivered = [...december, ...january, lastExpired, firstKept, ...recent];
    archive.insertResults([...delivered, undelivered]);
    archive.markDelivered(delivered, daysAgo(1));
    const maintenance = new ArchiveMaintenance(archive, {
      logger,
      retentionDays: 30,
      moveStepRows: 5,
      now: () => NOW,
    });

    const report = await maintenance.runOnce();

    expect(report).toMatchObject({
      archivedResults: 26,
      archivedMetrics: 27,
      coldMonths: ['2024-12', '2025-01'],
    });
    expect(devices(file, 'results')).toEqual([
      'dev-0',
      'dev-1',
      'dev-2',
      'dev-201',
      'dev-3',
      'dev-4',
      'dev-99',
    ]);
    expect(devices(file, 'metrics')).toEqual([
      'dev-0',
      'dev-1',
      'dev-2',
      'dev-201',
      'dev-3',
      'dev-4',
    ]);
    expect(devices(cold('2024-12'), 'results')).toEqual(december.map((r) => r.deviceId).sort());
    expect(devices(cold('2024-12'), 'metrics')).toHaveLength(12);
    expect(devices(cold('2025-01'), 'results')).toEqual(
      [...january, lastExpired].map((r) => r.deviceId).sort(),
    );
    expect(devices(cold('2025-01'), 'metrics')).toHaveLength(15);
    expect(count("SELECT count(*) FROM operations WHERE operation_id = 'op-old'")).toBe(1);
  });

  it('keeps delivery times in the cold file, where a query with includeCold finds them', async () => {
    archive.recordOperation(OP, 'script', daysAgo(40).toISOString());
    archive.insertResults([result(1, daysAgo(40), OP), result(2, daysAgo(1), OP)]);
    archive.markDelivered([{ operationId: OP, deviceId: 'dev-1' }], daysAgo(39));

    await new ArchiveMaintenance(archive, { logger, now: () => NOW }).runOnce();
    const hot = queryArchive(file, { deviceId: 'dev-1' });
    const all = queryArchive(file, { includeCold: true });
    const recentOnly = queryArchive(file, { includeCold: true, since: daysAgo(2) });
    const limited = queryArchive(file, { includeCold: true, limit: 1 });

    expect(hot).toEqual([]);
    expect(all.map((a) => [a.result.deviceId, a.deliveredAt])).toEqual([
      ['dev-2', undefined],
      ['dev-1', daysAgo(39).toISOString()],
    ]);
    expect(all[1]?.result).toEqual(result(1, daysAgo(40), OP));
    expect(recentOnly.map((a) => a.result.deviceId)).toEqual(['dev-2']);
    expect(limited.map((a) => a.result.deviceId)).toEqual(['dev-2']);
  });

  it('does not duplicate rows when a pass stopped between the cold copy and the delete', async () => {
    archive.recordOperation('op-old', 'status', daysAgo(40).toISOString());
    const old = Array.from({ length: 8 }, (_, i) => result(i, daysAgo(40), 'op-old'));
    archive.insertResults(old);
    archive.markDelivered(old);
    // The copy of a first step committed in the cold file; the live file's delete did not.
    prepareColdArchive(cold('2025-01'));
    const db = new Database(file);
    db.prepare('ATTACH DATABASE ? AS cold').run(cold('2025-01'));
    db.exec(`INSERT INTO cold.results SELECT * FROM results ORDER BY device_id LIMIT 5;
             INSERT INTO cold.metrics SELECT * FROM metrics ORDER BY device_id LIMIT 5;`);
    db.close();

    const report = await new ArchiveMaintenance(archive, {
      logger,
      moveStepRows: 3,
      now: () => NOW,
    }).runOnce();

    expect(report.archivedResults).toBe(8);
    expect(devices(file, 'results')).toEqual([]);
    expect(devices(cold('2025-01'), 'results')).toEqual(old.map((r) => r.deviceId).sort());
    expect(devices(cold('2025-01'), 'metrics')).toEqual(old.map((r) => r.deviceId).sort());
  });

  it('forgets an old operation once none of its results remain', async () => {
    archive.recordOperation('op-old', 'script', daysAgo(40).toISOString());
    archive.insertResults([result(1, daysAgo(40), 'op-old')]);
    archive.markDelivered([{ operationId: 'op-old', deviceId: 'dev-1' }]);

    await new ArchiveMaintenance(archive, { logger, now: () => NOW }).runOnce();

    expect(count('SELECT count(*) FROM operations')).toBe(0);
  });

  it('returns freed pages in small vacuum steps while inserts commit in between', async () => {
    archive.recordOperation('op-old', 'status', daysAgo(40).toISOString());
    const old = Array.from({ length: 3000 }, (_, i) => result(i, daysAgo(40), 'op-old'));
    archive.insertResults(old);
    archive.markDelivered(old);
    const sizeBefore = statSync(file).size + statSync(`${file}-wal`).size;
    const events: string[] = [];
    const step = archive.vacuumStep.bind(archive);
    archive.vacuumStep = (pages) => {
      events.push('vacuum');
      return step(pages);
    };
    const maintenance = new ArchiveMaintenance(archive, {
      logger,
      vacuumStepPages: 16,
      now: () => NOW,
    });

    const pass = maintenance.runOnce();
    while (!events.includes('vacuum')) await nextTurn();
    for (let i = 0; i < 5; i += 1) {
      await nextTurn();
      archive.insertResults([result(5000 + i, NOW, 'op-new')]);
      events.push('insert');
    }
    const report = await pass;

    expect(report.vacuumSteps).toBeGreaterThan(10);
    expect(report.freePagesLeft).toBe(0);
    expect(events.lastIndexOf('insert')).toBeLessThan(events.lastIndexOf('vacuum'));
    expect(count('SELECT count(*) FROM results')).toBe(5);
    archive.close();
    archive = new Archive(file);
    expect(statSync(file).size).toBeLessThan(sizeBefore / 4);
  });

  it('stops scheduling after stop', async () => {
    const maintenance = new ArchiveMaintenance(archive, { logger, intervalMs: 10, now: () => NOW });
    let passes = 0;
    const run = maintenance.runOnce.bind(maintenance);
    maintenance.runOnce = () => {
      passes += 1;
      return run();
    };

    maintenance.start();
    while (passes < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    await maintenance.stop();
    const after = passes;
    await new Promise((resolve) => setTimeout(resolve, 30));

    expect(passes).toBe(after);
  });

  it('converts an archive made without incremental vacuum when it opens', () => {
    archive.close();
    const legacy = path.join(dir, 'legacy.db');
    const db = new Database(legacy);
    db.exec('CREATE TABLE t (x)');
    db.close();

    archive = new Archive(legacy);

    const check = new Database(legacy, { readonly: true });
    expect(check.pragma('auto_vacuum', { simple: true })).toBe(2);
    check.close();
  });
});
