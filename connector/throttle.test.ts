import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Release, SiteThrottle } from './throttle.ts';

/** Runs `count` jobs of one operation through the throttle, tracking what ran at once. */
function tracker(throttle: SiteThrottle) {
  const state = { maxSite: 0, maxPerOperation: new Map<string, number>(), order: [] as string[] };
  const perOperation = new Map<string, number>();
  async function job(operationId: string, deviceId: string, operationLimit: number) {
    const release = await throttle.acquire({ operationId, deviceId, operationLimit });
    const n = (perOperation.get(operationId) ?? 0) + 1;
    perOperation.set(operationId, n);
    state.maxPerOperation.set(
      operationId,
      Math.max(state.maxPerOperation.get(operationId) ?? 0, n),
    );
    state.maxSite = Math.max(state.maxSite, throttle.inFlight);
    state.order.push(operationId);
    await sleep(1);
    perOperation.set(operationId, (perOperation.get(operationId) ?? 1) - 1);
    release();
  }
  return { state, job };
}

describe('SiteThrottle', () => {
  it('never exceeds the site budget across two operations', async () => {
    const throttle = new SiteThrottle(5);
    const { state, job } = tracker(throttle);

    await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => job('op-a', `a-${i}`, 50)),
      ...Array.from({ length: 20 }, (_, i) => job('op-b', `b-${i}`, 50)),
    ]);

    expect(state.maxSite).toBe(5);
    expect(throttle.inFlight).toBe(0);
  });

  it('keeps each operation inside its own limit', async () => {
    const throttle = new SiteThrottle(10);
    const { state, job } = tracker(throttle);

    await Promise.all([
      ...Array.from({ length: 12 }, (_, i) => job('op-a', `a-${i}`, 2)),
      ...Array.from({ length: 12 }, (_, i) => job('op-b', `b-${i}`, 10)),
    ]);

    expect(state.maxPerOperation.get('op-a')).toBe(2);
    expect(state.maxSite).toBeLessThanOrEqual(10);
  });

  it('runs one command at a time per device even across operations', async () => {
    const throttle = new SiteThrottle(4);
    const first = await throttle.acquire({ operationId: 'op-a', deviceId: 'd', operationLimit: 4 });
    let secondGranted = false;
    const second = throttle
      .acquire({ operationId: 'op-b', deviceId: 'd', operationLimit: 4 })
      .then((release) => {
        secondGranted = true;
        return release;
      });
    await sleep(1);

    expect(secondGranted).toBe(false);
    first();
    (await second)();
    expect(throttle.inFlight).toBe(0);
  });

  it('serves operations in turns so that a later operation is not starved', async () => {
    const throttle = new SiteThrottle(1);
    const hold = await throttle.acquire({ operationId: 'op-x', deviceId: 'x', operationLimit: 1 });
    const { state, job } = tracker(throttle);
    const jobs = [
      ...Array.from({ length: 4 }, (_, i) => job('op-a', `a-${i}`, 1)),
      ...Array.from({ length: 2 }, (_, i) => job('op-b', `b-${i}`, 1)),
    ];

    hold();
    await Promise.all(jobs);

    expect(state.order).toEqual(['op-a', 'op-b', 'op-a', 'op-b', 'op-a', 'op-a']);
  });

  it('withdraws a waiting request when its signal aborts', async () => {
    const throttle = new SiteThrottle(1);
    const hold = await throttle.acquire({ operationId: 'op-a', deviceId: 'a', operationLimit: 1 });
    const controller = new AbortController();
    const waiting = throttle.acquire({
      operationId: 'op-a',
      deviceId: 'b',
      operationLimit: 1,
      signal: controller.signal,
    });

    controller.abort(new Error('draining'));

    await expect(waiting).rejects.toThrow('draining');
    expect(throttle.waiting).toBe(0);
    hold();
  });

  it('respects every limit for any mix of requests and release orders', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(
          fc.tuple(fc.constantFrom('op-a', 'op-b', 'op-c'), fc.integer({ min: 0, max: 5 })),
          {
            minLength: 1,
            maxLength: 30,
          },
        ),
        async (budget, requests) => {
          const throttle = new SiteThrottle(budget);
          const busy = new Set<string>();
          let violations = 0;
          await Promise.all(
            requests.map(async ([operationId, device]) => {
              const deviceId = `d-${device}`;
              const release: Release = await throttle.acquire({
                operationId,
                deviceId,
                operationLimit: 2,
              });
              if (busy.has(deviceId) || throttle.inFlight > budget) violations += 1;
              busy.add(deviceId);
              await Promise.resolve();
              busy.delete(deviceId);
              release();
            }),
          );
          expect(violations).toBe(0);
          expect(throttle.inFlight).toBe(0);
        },
      ),
      { numRuns: 50 },
    );
  });
});
