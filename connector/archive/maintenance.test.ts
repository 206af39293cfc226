import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/logger.ts';
import type { DeviceResult } from '../../shared/schemas/result.ts';
import { Archive } from './archive.ts';
import { ArchiveMaintenance } from './maintenance.ts';

const logger = createLogger('test', { level: 'silent' });
const NOW = new Date('2025-03-01T00:00:00.000Z');
const DAY_MS = 24 * 3600 * 1000;

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

  it('deletes delivered results and metrics past the retention, in steps, and keeps the outbox', async () => {
    archive.recordOperation('op-old', 'status', daysAgo(40).toISOString());
    archive.recordOperation('op-new', 'status', daysAgo(1).toISOString());
    const old = Array.from({ length: 25 }, (_, i) => result(i, daysAgo(40), 'op-old'));
    const undelivered = result(99, daysAgo(40), 'op-old');
    const recent = Array.from({ length: 5 }, (_, i) => result(i, daysAgo(1), 'op-new'));
    archive.insertResults([...old, undelivered, ...recent]);
    archive.markDelivered([...old, ...recent]);
    const maintenance = new ArchiveMaintenance(archive, {
      logger,
      retentionDays: 30,
      deleteStepRows: 10,
      now: () => NOW,
    });

    const report = await maintenance.runOnce();

    expect(report.deletedResults).toBe(25);
    expect(report.deletedMetrics).toBe(26);
    expect(count('SELECT count(*) FROM results')).toBe(6);
    expect(count("SELECT count(*) FROM results WHERE device_id = 'dev-99'")).toBe(1);
    expect(count('SELECT count(*) FROM metrics')).toBe(5);
    expect(count("SELECT count(*) FROM operations WHERE operation_id = 'op-old'")).toBe(1);
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
