import type { ResultItem } from '../cli/api-client.ts';
import type { Operation } from '../shared/schemas/operation.ts';
import type { FinalDeviceState } from '../shared/schemas/result.ts';

export interface SiteSummary {
  siteId: string;
  /** Devices of the site with a result. */
  devices: number;
  /** Success and Cached. */
  succeeded: number;
  /** Failed, TimedOut and Unreachable. */
  failed: number;
  /** Cancelled and Expired: not run, or stopped, on purpose or by their time-to-live. */
  cancelled: number;
  /** Of the succeeded, those served from a connector's cache. */
  cached: number;
  /** From the operation's creation to the site's last result. */
  seconds: number;
}

type Column = 'succeeded' | 'failed' | 'cancelled';

const COLUMN_OF: Record<FinalDeviceState, Column> = {
  Success: 'succeeded',
  Cached: 'succeeded',
  Failed: 'failed',
  TimedOut: 'failed',
  Unreachable: 'failed',
  Cancelled: 'cancelled',
  Expired: 'cancelled',
};

/**
 * Per-site figures of a finished operation. Every site of the operation is listed, also one
 * without results (an operation cancelled before its batches ran), and sites of results.
 */
export function summarizeBySite(operation: Operation, results: ResultItem[]): SiteSummary[] {
  const createdMs = Date.parse(operation.createdAt);
  const bySite = new Map(operation.siteIds.map((siteId) => [siteId, emptySummary(siteId)]));
  for (const result of results) {
    const site = bySite.get(result.siteId) ?? emptySummary(result.siteId);
    site.devices += 1;
    site[COLUMN_OF[result.status]] += 1;
    if (result.status === 'Cached') site.cached += 1;
    const finishedMs = result.finishedAt ? Date.parse(result.finishedAt) : createdMs;
    site.seconds = Math.max(site.seconds, (finishedMs - createdMs) / 1000);
    bySite.set(result.siteId, site);
  }
  return [...bySite.values()].sort((a, b) => a.siteId.localeCompare(b.siteId));
}

function emptySummary(siteId: string): SiteSummary {
  return { siteId, devices: 0, succeeded: 0, failed: 0, cancelled: 0, cached: 0, seconds: 0 };
}

/**
 * The summary as an aligned text table with a total line, then footnotes: how many of the
 * succeeded were cached answers, and how many devices have no result at all.
 */
export function formatSummary(operation: Operation, sites: SiteSummary[]): string {
  const total = sites.reduce(addSummary, emptySummary('total'));
  const header = ['site', 'devices', 'succeeded', 'failed', 'cancelled', 'time (s)'];
  const table = [header, ...[...sites, total].map(summaryRow)];
  const widths = header.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
  const lines = table.map((r) =>
    r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))),
  );
  const title = `Operation ${operation.operationId} (${operation.type}): ${operation.status}`;
  return [title, ...lines.map((l) => l.join('  ')), ...footnotes(operation, total)].join('\n');
}

function summaryRow(s: SiteSummary): string[] {
  return [s.siteId, s.devices, s.succeeded, s.failed, s.cancelled, s.seconds.toFixed(1)].map(
    String,
  );
}

function addSummary(t: SiteSummary, s: SiteSummary): SiteSummary {
  return {
    siteId: t.siteId,
    devices: t.devices + s.devices,
    succeeded: t.succeeded + s.succeeded,
    failed: t.failed + s.failed,
    cancelled: t.cancelled + s.cancelled,
    cached: t.cached + s.cached,
    seconds: Math.max(t.seconds, s.seconds),
  };
}

function footnotes(operation: Operation, total: SiteSummary): string[] {
  const notes: string[] = [];
  if (total.cached > 0) {
    notes.push(`${total.cached} of the succeeded were answered from a connector's cache (Cached)`);
  }
  const missing = operation.total - total.devices;
  if (missing > 0) notes.push(`${missing} of ${operation.total} devices have no result`);
  return notes;
}
