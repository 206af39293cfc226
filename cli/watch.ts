import { waitForOperation } from '../local/wait.ts';
import type { Operation, Targets } from '../shared/schemas/operation.ts';
import { SUCCESS_STATES } from '../shared/schemas/result.ts';
import type { ApiClient, DeviceListItem, ResultItem } from './api-client.ts';
import type { ProgressDisplay, SiteProgressState } from './progress.ts';

export interface WatchOptions {
  progress: ProgressDisplay;
  /** Between polls of the operation. Default 500. */
  pollMs?: number;
  signal?: AbortSignal;
}

export interface WatchOutcome {
  operation: Operation;
  results: ResultItem[];
}

/**
 * Follows an operation to its end, showing each site's progress from its results: polls
 * `GET /operations/{id}` and, whenever no read is in flight, re-reads the results. Returns
 * the final operation and every result.
 */
export async function watchOperation(
  api: ApiClient,
  operationId: string,
  options: WatchOptions,
): Promise<WatchOutcome> {
  const first = await api.operation(operationId);
  const totals = await siteTotals(api, first);
  const show = (results: ResultItem[]) => options.progress.update(siteStates(totals, results));
  let reading: Promise<void> | undefined;
  const refresh = () => {
    reading ??= api
      .allResults(operationId)
      .then(show)
      // A failed read shows nothing new; the final read below reports its error.
      .catch(() => undefined)
      .finally(() => {
        reading = undefined;
      });
  };
  try {
    const operation = await waitForOperation(api, operationId, {
      pollMs: options.pollMs,
      signal: options.signal,
      onProgress: refresh,
    });
    await reading;
    const results = await api.allResults(operationId);
    show(results);
    return { operation, results };
  } finally {
    options.progress.stop();
  }
}

/**
 * Devices per site that the operation's targets name, counted from the device registry (the
 * operation itself keeps only its overall total). Empty when the registry cannot be read.
 */
async function siteTotals(api: ApiClient, operation: Operation): Promise<Map<string, number>> {
  const totals = new Map<string, number>();
  try {
    for (const siteId of operation.siteIds) {
      const devices = await api.allDevices({ siteId });
      totals.set(siteId, devices.filter((d) => targets(operation.targets, d)).length);
    }
  } catch {
    totals.clear();
  }
  return totals;
}

function targets(spec: Targets, device: DeviceListItem): boolean {
  if ('all' in spec || 'siteIds' in spec) return true;
  if ('deviceIds' in spec) return spec.deviceIds.includes(device.deviceId);
  return Object.entries(spec.tags).every(([key, value]) => device.tags[key] === value);
}

function siteStates(totals: Map<string, number>, results: ResultItem[]): SiteProgressState[] {
  const states = new Map<string, SiteProgressState>();
  for (const [siteId, total] of totals) states.set(siteId, { siteId, done: 0, failed: 0, total });
  for (const result of results) {
    const state = states.get(result.siteId) ?? {
      siteId: result.siteId,
      done: 0,
      failed: 0,
      total: 0,
    };
    state.done += 1;
    if (!SUCCESS_STATES.has(result.status)) state.failed += 1;
    states.set(result.siteId, state);
  }
  return [...states.values()]
    .map((state) => ({ ...state, total: Math.max(state.total, state.done) }))
    .sort((a, b) => a.siteId.localeCompare(b.siteId));
}
