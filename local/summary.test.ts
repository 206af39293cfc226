import { describe, expect, it } from 'vitest';
import type { ResultItem } from '../cli/api-client.ts';
import type { Operation } from '../shared/schemas/operation.ts';
import type { FinalDeviceState } from '../shared/schemas/result.ts';
import { formatSummary, summarizeBySite } from './summary.ts';

const CREATED_AT = '2026-12-01T10:00:00.000Z';

function operationOf(fields: Partial<Operation>): Operation {
  return {
    operationId: 'op-0000000000test',
    type: 'status',
    status: 'CompletedWithErrors',
    targets: { all: true },
    total: 0,
    done: 0,
    counts: {},
    siteIds: [],
    batchCount: 1,
    createdAt: CREATED_AT,
    updatedAt: CREATED_AT,
    source: 'api',
    ...fields,
  };
}

function resultsOf(siteId: string, states: FinalDeviceState[]): ResultItem[] {
  return states.map((status, i) => ({
    deviceId: `${siteId}-${i}`,
    siteId,
    status,
    finishedAt: '2026-12-01T10:00:02.000Z',
  }));
}

describe('the per-site summary', () => {
  it('counts each final state in one column: succeeded, failed or cancelled', () => {
    const results = resultsOf('alpha', [
      'Success',
      'Cached',
      'Failed',
      'TimedOut',
      'Unreachable',
      'Cancelled',
      'Expired',
    ]);
    const operation = operationOf({ total: 7, siteIds: ['alpha'] });

    const [alpha] = summarizeBySite(operation, results);

    expect(alpha).toEqual({
      siteId: 'alpha',
      devices: 7,
      succeeded: 2,
      failed: 3,
      cancelled: 2,
      cached: 1,
      seconds: 2,
    });
  });

  it('prints a cancelled column and a footnote on cached answers', () => {
    const operation = operationOf({ total: 3, siteIds: ['alpha'] });
    const results = resultsOf('alpha', ['Cached', 'Cancelled', 'Failed']);

    const text = formatSummary(operation, summarizeBySite(operation, results));

    const lines = text.split('\n');
    expect(lines[1]?.split(/\s+/)).toEqual([
      'site',
      'devices',
      'succeeded',
      'failed',
      'cancelled',
      'time',
      '(s)',
    ]);
    expect(lines[2]?.split(/\s+/)).toEqual(['alpha', '3', '1', '1', '1', '2.0']);
    expect(lines[3]?.split(/\s+/)).toEqual(['total', '3', '1', '1', '1', '2.0']);
    expect(lines[4]).toMatch(/^1 of the succeeded .*\(Cached\)$/);
  });

  it('lists the sites of an operation cancelled before any result, and the missing devices', () => {
    const operation = operationOf({ status: 'Cancelled', total: 30, siteIds: ['beta', 'alpha'] });

    const text = formatSummary(operation, summarizeBySite(operation, []));

    const lines = text.split('\n').map((line) => line.split(/\s+/));
    expect(lines.slice(2, 5).map((cells) => cells[0])).toEqual(['alpha', 'beta', 'total']);
    expect(lines[4]).toEqual(['total', '0', '0', '0', '0', '0.0']);
    expect(text).toContain('30 of 30 devices have no result');
    expect(text).not.toMatch(/Cached/);
  });
});
