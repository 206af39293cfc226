import type { RateControl } from '../../shared/schemas/index.ts';

/**
 * Each site's share of an operation's `maxErrors`, as a device count, carried in the site's
 * batch messages (`siteMaxErrors`) so that every connector can stop its own site without
 * waiting to hear from the others. A count is apportioned over the sites by their device
 * counts with the largest-remainder method, so the shares add up to exactly `maxErrors`; a
 * percentage is the same percentage of each site's devices, rounded down, so the shares add up
 * to at most the operation's limit. Empty when the operation sets no `maxErrors`.
 */
export function siteErrorBudgets(
  maxErrors: RateControl['maxErrors'],
  devicesBySite: ReadonlyMap<string, number>,
): Map<string, number> {
  if (maxErrors === undefined) return new Map();
  if (typeof maxErrors === 'string') {
    const percent = Number.parseInt(maxErrors, 10);
    return new Map([...devicesBySite].map(([site, n]) => [site, Math.floor((n * percent) / 100)]));
  }
  return largestRemainder(maxErrors, devicesBySite);
}

/** The shares of a plan's sites, counting each site's devices over its batches. */
export function planErrorBudgets(
  maxErrors: RateControl['maxErrors'],
  batches: readonly { siteId: string; devices: readonly unknown[] }[],
): Map<string, number> {
  const devicesBySite = new Map<string, number>();
  for (const { siteId, devices } of batches) {
    devicesBySite.set(siteId, (devicesBySite.get(siteId) ?? 0) + devices.length);
  }
  return siteErrorBudgets(maxErrors, devicesBySite);
}

function largestRemainder(count: number, devicesBySite: ReadonlyMap<string, number>) {
  const total = [...devicesBySite.values()].reduce((sum, n) => sum + n, 0);
  if (total === 0) return new Map([...devicesBySite.keys()].map((site) => [site, 0]));
  const quotas = [...devicesBySite].map(([site, n]) => {
    const exact = (count * n) / total;
    return { site, n, share: Math.floor(exact), remainder: exact - Math.floor(exact) };
  });
  let left = count - quotas.reduce((sum, q) => sum + q.share, 0);
  // Ties go to the larger site, then to the site first in id order: the same plan, same shares.
  const order = [...quotas].sort(
    (a, b) => b.remainder - a.remainder || b.n - a.n || a.site.localeCompare(b.site),
  );
  for (const quota of order) {
    if (left <= 0) break;
    quota.share += 1;
    left -= 1;
  }
  return new Map(quotas.map((q) => [q.site, q.share]));
}
