import type { ResultItem } from '../cli/api-client.ts';
import type { Operation } from '../shared/schemas/operation.ts';
import { type FinalDeviceState, SUCCESS_STATES } from '../shared/schemas/result.ts';

export interface SiteSummary {
  siteId: string;
  devices: number;
  succeeded: number;
  failed: number;
  /** From the operation's creation to the site's last result. */
  seconds: number;
}

/** Per-site figures of a finished operation: devices, succeeded, failed and time taken. */
export function summarizeBySite(operation: Operation, results: ResultItem[]): SiteSummary[] {
  const createdMs = Date.parse(operation.createdAt);
  const bySite = new Map<string, SiteSummary>();
  for (const result of results) {
    const site = bySite.get(result.siteId) ?? emptySummary(result.siteId);
    site.devices += 1;
    if (SUCCESS_STATES.has(result.status as FinalDeviceState)) site.succeeded += 1;
    else site.failed += 1;
    const finishedMs = result.finishedAt ? Date.parse(result.finishedAt) : createdMs;
    site.seconds = Math.max(site.seconds, (finishedMs - createdMs) / 1000);
    bySite.set(result.siteId, site);
  }
  return [...bySite.values()].sort((a, b) => a.siteId.localeCompare(b.siteId));
}

function emptySummary(siteId: string): SiteSummary {
  return { siteId, devices: 0, succeeded: 0, failed: 0, seconds: 0 };
}

/** The summary as an aligned text table with a total line. */
export function formatSummary(operation: Operation, sites: SiteSummary[]): string {
  const rows = sites.map((s) => [s.siteId, s.devices, s.succeeded, s.failed, s.seconds.toFixed(1)]);
  const total = sites.reduce(
    (t, s) => ({
      devices: t.devices + s.devices,
      succeeded: t.succeeded + s.succeeded,
      failed: t.failed + s.failed,
      seconds: Math.max(t.seconds, s.seconds),
    }),
    { devices: 0, succeeded: 0, failed: 0, seconds: 0 },
  );
  rows.push(['total', total.devices, total.succeeded, total.failed, total.seconds.toFixed(1)]);
  const header = ['site', 'devices', 'succeeded', 'failed', 'time (s)'];
  const table = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
  const lines = table.map((r) =>
    r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))),
  );
  const title = `Operation ${operation.operationId} (${operation.type}): ${operation.status}`;
  return [title, ...lines.map((l) => l.join('  '))].join('\n');
}
