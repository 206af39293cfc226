import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatchMessage, type Operation } from '../../shared/schemas/index.ts';
import { planErrorBudgets, siteErrorBudgets } from './error-budgets.ts';
import { planBatches } from './plan-batches.ts';

describe('siteErrorBudgets', () => {
  it('apportions a count over the sites by device count, largest remainder first', () => {
    const sites = new Map([
      ['a', 51],
      ['b', 51],
      ['c', 50],
    ]);

    expect(Object.fromEntries(siteErrorBudgets(3, sites))).toEqual({ a: 1, b: 1, c: 1 });
    expect(Object.fromEntries(siteErrorBudgets(4, sites))).toEqual({ a: 2, b: 1, c: 1 });
    expect(Object.fromEntries(siteErrorBudgets(0, sites))).toEqual({ a: 0, b: 0, c: 0 });
  });

  it('gives each site the same percentage of its own devices, rounded down', () => {
    const sites = new Map([
      ['a', 51],
      ['b', 51],
      ['c', 50],
    ]);

    expect(Object.fromEntries(siteErrorBudgets('10%', sites))).toEqual({ a: 5, b: 5, c: 5 });
  });

  it('sets no shares when the operation sets no maxErrors', () => {
    expect(siteErrorBudgets(undefined, new Map([['a', 3]])).size).toBe(0);
  });

  it('counts a site over all of its batches in a plan', () => {
    const batches = [
      { siteId: 'a', devices: [1, 2] },
      { siteId: 'a', devices: [3] },
      { siteId: 'b', devices: [1] },
    ];

    expect(Object.fromEntries(planErrorBudgets(4, batches))).toEqual({ a: 3, b: 1 });
  });

  it('never gives out more than maxErrors, and a count exactly', () => {
    const sizes = fc.array(fc.integer({ min: 1, max: 500 }), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(sizes, fc.integer({ min: 0, max: 1000 }), fc.nat(100), (ns, count, percent) => {
        const sites = new Map(ns.map((n, i) => [`s${i}`, n]));
        const total = ns.reduce((sum, n) => sum + n, 0);
        const sum = (m: Map<string, number>) => [...m.values()].reduce((s, n) => s + n, 0);

        expect(sum(siteErrorBudgets(count, sites))).toBe(count);
        expect(sum(siteErrorBudgets(`${percent}%`, sites))).toBeLessThanOrEqual(
          Math.floor((total * percent) / 100),
        );
      }),
    );
  });
});

describe('planBatches with maxErrors', () => {
  it('carries each site its share of maxErrors in every one of its batches', () => {
    const operation: Operation = {
      operationId: 'op-0000000000abc',
      type: 'status',
      status: 'Pending',
      targets: { all: true },
      rateControl: { maxErrors: 3 },
      total: 5,
      done: 0,
      counts: {},
      siteIds: ['a', 'b'],
      batchCount: 0,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      source: 'api',
    };
    const device = (id: string) => ({
      deviceId: id,
      computerName: id,
      address: '10.0.0.1',
      port: 5985,
    });
    const bySite = new Map([
      ['a', ['a1', 'a2', 'a3', 'a4'].map(device)],
      ['b', [device('b1')]],
    ]);

    const batches = planBatches(operation, bySite, { maxDevicesPerBatch: 2, maxMessageBytes: 1e6 });

    const shares = batches.map((b) => [
      b.siteId,
      BatchMessage.parse(JSON.parse(b.body)).siteMaxErrors,
    ]);
    expect(shares).toEqual([
      ['a', 2],
      ['a', 2],
      ['b', 1],
    ]);
  });
});
