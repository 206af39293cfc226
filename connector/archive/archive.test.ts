import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeviceResult } from '../../shared/schemas/result.ts';
import { Archive } from './archive.ts';
import { buildQuery, queryArchive } from './query.ts';
import { ArchiveWriter } from './writer.ts';

function result(deviceId: string, overrides: Partial<DeviceResult> = {}): DeviceResult {
  return {
    operationId: 'op-0000000001',
    deviceId,
    siteId: 'site-a',
    batchId: 'b-1',
    status: 'Success',
    exitCode: 0,
    stdout: '{"ok":true}',
    output: { ok: true, nested: [1, 2] },
    startedAt: '2025-01-01T00:00:00.000Z',
    finishedAt: '2025-01-01T00:00:01.000Z',
    durationMs: 1000,
    ...overrides,
  };
}

describe('Archive', () => {
  let dir: string;
  let file: string;
  let archive: Archive;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'winfleet-archive-'));
    file = path.join(dir, 'site-a', 'archive.db');
    archive = new Archive(file);
  });

  afterEach(() => {
    archive.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the results table in WAL mode with the contract columns', () => {
    archive.insertResults([result('dev-1')]);
    const db = new Database(file, { readonly: true });
    const mode = db.pragma('journal_mode', { simple: true });
    const row = db.prepare('SELECT operation_id, device_id, status FROM results').get();
    db.close();

    expect(mode).toBe('wal');
    expect(row).toEqual({ operation_id: 'op-0000000001', device_id: 'dev-1', status: 'Success' });
  });

  it('keeps the first final result of a device and counts only new rows', () => {
    const first = archive.insertResults([result('dev-1'), result('dev-2')]);
    const again = archive.insertResults([result('dev-1', { status: 'Failed' })]);

    expect(first).toBe(2);
    expect(again).toBe(0);
    const [stored] = archive.finalResultsFor('op-0000000001', ['dev-1']);
    expect(stored?.result.status).toBe('Success');
  });

  it('returns a result with its output exactly as it was archived', () => {
    const original = result('dev-1', { stderr: 'warn', exitCode: 3, status: 'Failed' });
    archive.insertResults([original]);

    const found = archive.finalResultsFor('op-0000000001', ['dev-1', 'dev-9']);

    expect(found).toEqual([{ result: original, deliveredAt: undefined }]);
  });

  it('moves delivered results out of the outbox', () => {
    archive.insertResults([result('dev-1'), result('dev-2')]);

    archive.markDelivered([{ operationId: 'op-0000000001', deviceId: 'dev-1' }]);

    expect(archive.outbox().map((r) => r.result.deviceId)).toEqual(['dev-2']);
    const [delivered] = archive.finalResultsFor('op-0000000001', ['dev-1']);
    expect(delivered?.deliveredAt).toMatch(/^\d{4}-/);
  });

  it('keeps its rows across a reopen', () => {
    archive.insertResults([result('dev-1')]);
    archive.close();

    archive = new Archive(file);

    expect(archive.finalResultsFor('op-0000000001', ['dev-1'])).toHaveLength(1);
  });

  it('groups concurrent writes into one transaction and resolves after commit', async () => {
    const writer = new ArchiveWriter(archive, { maxRows: 3, flushIntervalMs: 1000 });

    await Promise.all(['dev-1', 'dev-2', 'dev-3'].map((id) => writer.write(result(id))));

    expect(archive.outbox()).toHaveLength(3);
  });
});

describe('Archive metrics and queries', () => {
  let dir: string;
  let file: string;
  let archive: Archive;
  const point = {
    computerName: 'WS-1',
    uptimeSeconds: 3600,
    cpuPercent: 12.5,
    memoryTotalBytes: 8192,
    memoryFreeBytes: 4096,
    diskFreeBytes: 100,
    diskTotalBytes: 200,
    osVersion: '10.0.19045',
  };

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'winfleet-archive-'));
    file = path.join(dir, 'site-a', 'archive.db');
    archive = new Archive(file);
  });

  afterEach(() => {
    archive.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function metricRows(): unknown[] {
    const db = new Database(file, { readonly: true });
    const rows = db.prepare('SELECT device_id, cpu_percent, uptime_seconds FROM metrics').all();
    db.close();
    return rows;
  }

  it('records the metric point of a fresh status answer in the same transaction', () => {
    archive.recordOperation('op-status', 'status', '2025-01-01T00:00:00.000Z');
    const status = { operationId: 'op-status', output: point, stdout: JSON.stringify(point) };

    archive.insertResults([
      result('dev-1', status),
      result('dev-2', { ...status, status: 'Cached', cacheAgeSeconds: 5 }),
      result('dev-3', { ...status, status: 'Failed', output: undefined }),
    ]);

    expect(metricRows()).toEqual([{ device_id: 'dev-1', cpu_percent: 12.5, uptime_seconds: 3600 }]);
  });

  it('records no metric point for a script that prints the same document', () => {
    archive.recordOperation('op-script', 'script', '2025-01-01T00:00:00.000Z');

    archive.insertResults([result('dev-1', { operationId: 'op-script', output: point })]);

    expect(metricRows()).toEqual([]);
  });

  it('stores an output equal to its stdout once and reads it back unchanged', () => {
    const original = result('dev-1', { stdout: `${JSON.stringify(point)}\r\n`, output: point });
    archive.insertResults([original]);

    const db = new Database(file, { readonly: true });
    const stored = db.prepare('SELECT output FROM results').pluck().get();
    db.close();

    expect(stored).toBe('');
    expect(archive.finalResultsFor('op-0000000001', ['dev-1'])[0]?.result).toEqual(original);
  });

  it('answers an operator query by device, status and time, newest first', () => {
    archive.insertResults([
      result('dev-1', { finishedAt: '2025-01-01T00:00:01.000Z' }),
      result('dev-1', { operationId: 'op-0000000002', finishedAt: '2025-01-02T00:00:00.000Z' }),
      result('dev-1', {
        operationId: 'op-0000000003',
        status: 'Failed',
        finishedAt: '2025-01-03T00:00:00.000Z',
      }),
      result('dev-2', { finishedAt: '2025-01-04T00:00:00.000Z' }),
    ]);

    const found = queryArchive(file, {
      siteId: 'site-a',
      deviceId: 'dev-1',
      status: 'Success',
      since: new Date('2025-01-01T12:00:00.000Z'),
    });

    expect(found.map((f) => f.result.operationId)).toEqual(['op-0000000002']);
    expect(queryArchive(file, { deviceId: 'dev-1' }).map((f) => f.result.finishedAt)).toEqual([
      '2025-01-03T00:00:00.000Z',
      '2025-01-02T00:00:00.000Z',
      '2025-01-01T00:00:01.000Z',
    ]);
  });

  it('plans an operator query by device on the device index', () => {
    archive.insertResults([result('dev-1')]);
    const { sql, params } = buildQuery({ deviceId: 'dev-1', since: new Date(0) });

    const db = new Database(file, { readonly: true });
    const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params);
    db.close();

    expect(JSON.stringify(plan)).toMatch(/results_by_device/);
  });
});
