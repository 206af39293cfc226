import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Release, SiteThrottle } from './throttle.ts';

/** Lets granted promises settle. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
}

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

  it('ramps an operation up 1, 2, 4, 8 devices in flight, then holds its limit', async () => {
    const throttle = new SiteThrottle({ budget: 20, rampUp: true });
    const held: Release[] = [];
    for (let i = 0; i < 30; i += 1) {
      void throttle
        .acquire({ operationId: 'op-a', deviceId: `d-${i}`, operationLimit: 8 })
        .then((release) => held.push(release));
    }
    const rounds: number[] = [];

    for (let round = 0; round < 6; round += 1) {
      await settle();
      rounds.push(throttle.inFlight);
      for (const release of held.splice(0)) release();
    }

    expect(rounds).toEqual([1, 2, 4, 8, 8, 7]);
  });

  it('ramps each operation on its own inside the shared budget', async () => {
    const throttle = new SiteThrottle({ budget: 3, rampUp: true });
    const held: string[] = [];
    for (const op of ['op-a', 'op-b']) {
      for (let i = 0; i < 4; i += 1) {
        void throttle
          .acquire({ operationId: op, deviceId: `${op}-${i}`, operationLimit: 4 })
          .then(() => held.push(op));
      }
    }

    await settle();

    expect(held.sort()).toEqual(['op-a', 'op-b']);
  });

  describe('jitter', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('delays each start by random * jitterMs while holding the slot', async () => {
      vi.useFakeTimers();
      const draws = [0.5, 0.999, 0];
      const throttle = new SiteThrottle({ budget: 3, jitterMs: 1000 }, () => draws.shift() ?? 0);
      const granted: string[] = [];
      for (const id of ['a', 'b', 'c']) {
        void throttle
          .acquire({ operationId: 'op', deviceId: id, operationLimit: 3 })
          .then(() => granted.push(id));
      }

      await settle();
      const immediately = [...granted];
      await vi.advanceTimersByTimeAsync(499);
      const before = [...granted];
      await vi.advanceTimersByTimeAsync(1);
      const at500 = [...granted];
      await vi.advanceTimersByTimeAsync(500);

      expect(immediately).toEqual(['c']);
      expect(before).toEqual(['c']);
      expect(at500).toEqual(['c', 'a']);
      expect(granted).toEqual(['c', 'a', 'b']);
      expect(throttle.inFlight).toBe(3);
    });

    it('never delays a start by jitterMs or more', async () => {
      vi.useFakeTimers();
      await fc.assert(
        fc.asyncProperty(
          fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
          fc.integer({ min: 1, max: 10_000 }),
          async (draw, jitterMs) => {
            const throttle = new SiteThrottle({ budget: 1, jitterMs }, () => draw);
            let granted = false;
            void throttle
              .acquire({ operationId: 'op', deviceId: 'd', operationLimit: 1 })
              .then(() => {
                granted = true;
              });
            await vi.advanceTimersByTimeAsync(jitterMs - 1);
            expect(granted).toBe(Math.floor(draw * jitterMs) <= jitterMs - 1);
            await vi.advanceTimersByTimeAsync(1);
            expect(granted).toBe(true);
          },
        ),
        { numRuns: 50 },
      );
    });

    it('frees the slot when the request aborts during its jitter', async () => {
      vi.useFakeTimers();
      const throttle = new SiteThrottle({ budget: 1, jitterMs: 1000 }, () => 0.5);
      const controller = new AbortController();
      const waiting = throttle.acquire({
        operationId: 'op',
        deviceId: 'd',
        operationLimit: 1,
        signal: controller.signal,
      });

      controller.abort(new Error('draining'));

      await expect(waiting).rejects.toThrow('draining');
      expect(throttle.inFlight).toBe(0);
    });
  });

  it('takes a new budget at once and never drops a command in flight', async () => {
    const throttle = new SiteThrottle(2);
    const held: Release[] = [];
    for (let i = 0; i < 6; i += 1) {
      void throttle
        .acquire({ operationId: 'op', deviceId: `d-${i}`, operationLimit: 10 })
        .then((release) => held.push(release));
    }
    await settle();
    const atTwo = throttle.inFlight;

    throttle.reconfigure({ budget: 4 });
    await settle();
    const atFour = throttle.inFlight;
    throttle.reconfigure({ budget: 1 });
    held.shift()?.();
    await settle();

    expect([atTwo, atFour, throttle.inFlight, throttle.waiting]).toEqual([2, 4, 3, 2]);
  });
});
