import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeviceResult } from '../../shared/schemas/result.ts';
import { Archive } from './archive.ts';
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
