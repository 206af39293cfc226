import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Archive, ArchiveMaintenance } from '../../connector/archive/index.ts';
import { createLogger } from '../../shared/logger.ts';
import type { DeviceResult } from '../../shared/schemas/result.ts';

const BIN = fileURLToPath(new URL('../bin.js', import.meta.url));

function result(deviceId: string, overrides: Partial<DeviceResult> = {}): DeviceResult {
  return {
    operationId: 'op-0000000001',
    deviceId,
    siteId: 'site-a',
    batchId: 'b-1',
    status: 'Success',
    exitCode: 0,
    stdout: 'ok',
    startedAt: '2025-01-01T00:00:00.000Z',
    finishedAt: '2025-01-01T00:00:01.000Z',
    durationMs: 1000,
    ...overrides,
  };
}

function winfleet(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args]);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('winfleet archive query', () => {
  let dir = '';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'winfleet-archive-cli-'));
    // Left open while the CLI reads it, as the connector keeps it open.
    const archive = new Archive(join(dir, 'site-a', 'archive.db'));
    archive.insertResults([
      result('dev-1'),
      result('dev-2', { status: 'Failed', exitCode: 3, finishedAt: '2025-01-02T00:00:00.000Z' }),
      result('dev-3', { operationId: 'op-0000000002', finishedAt: '2025-01-03T00:00:00.000Z' }),
    ]);
    archive.markDelivered([{ operationId: 'op-0000000001', deviceId: 'dev-1' }]);
    return () => archive.close();
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the matching results as JSON lines, newest first', async () => {
    const out = await winfleet([
      'archive',
      'query',
      '--data-dir',
      dir,
      '--site',
      'site-a',
      '--operation',
      'op-0000000001',
      '--since',
      '2025-01-01T00:00:00Z',
      '--json',
    ]);

    const lines = out.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(out.code).toBe(0);
    expect(lines.map((l) => [l.deviceId, l.status, l.exitCode])).toEqual([
      ['dev-2', 'Failed', 3],
      ['dev-1', 'Success', 0],
    ]);
    expect(lines[1].deliveredAt).toMatch(/^\d{4}-/);
  });

  it('prints a table filtered by status, and rejects an unknown status', async () => {
    const [table, bad] = await Promise.all([
      winfleet(['archive', 'query', '--data-dir', dir, '--site', 'site-a', '--status', 'Failed']),
      winfleet(['archive', 'query', '--data-dir', dir, '--site', 'site-a', '--status', 'Weird']),
    ]);

    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^finishedAt\s+operationId\s+deviceId\s+status/);
    expect(table.stdout).toMatch(/op-0000000001\s+dev-2\s+Failed\s+3\s+no\n1 result\(s\)\n$/);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/status/);
  });

  it('finds results moved to a cold file only with --include-cold', async () => {
    const archive = new Archive(join(dir, 'site-b', 'archive.db'));
    archive.insertResults([result('dev-9', { siteId: 'site-b' })]);
    archive.markDelivered([{ operationId: 'op-0000000001', deviceId: 'dev-9' }]);
    const now = () => new Date('2025-03-01T00:00:00.000Z');
    const logger = createLogger('test', { level: 'silent' });
    await new ArchiveMaintenance(archive, { logger, now }).runOnce();
    archive.close();

    const args = ['archive', 'query', '--data-dir', dir, '--site', 'site-b', '--json'];
    const [hot, all] = await Promise.all([winfleet(args), winfleet([...args, '--include-cold'])]);

    expect(hot.stdout).toBe('');
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout)).toMatchObject({ deviceId: 'dev-9', siteId: 'site-b' });
  });

  it('says where it looked when the site has no archive', async () => {
    const out = await winfleet(['archive', 'query', '--data-dir', dir, '--site', 'site-z']);

    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain(join(dir, 'site-z', 'archive.db'));
  });
});
