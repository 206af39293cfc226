import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatchMessage, type DeviceTarget, type Operation } from '../../shared/schemas/index.ts';
import { PayloadTooLargeError } from '../errors.ts';
import { planBatches, toSqsSafeJson } from './plan-batches.ts';

function operationOf(total: number, parameters: Record<string, unknown> = {}): Operation {
  return {
    operationId: 'op-0000000000abc',
    type: 'script',
    status: 'Pending',
    targets: { all: true },
    parameters,
    total,
    done: 0,
    counts: {},
    siteIds: [],
    batchCount: 0,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    source: 'api',
  };
}

function devicesOf(siteId: string, count: number, nameLength = 10): DeviceTarget[] {
  return Array.from({ length: count }, (_, i) => ({
    deviceId: `${siteId}-${i}`,
    computerName: `${siteId}-${i}`.padEnd(nameLength, 'x'),
    address: `10.0.0.${i % 250}`,
    port: 5985,
  }));
}

describe('planBatches', () => {
  it('cuts each site into batches of at most maxDevicesPerBatch', () => {
    const bySite = new Map([
      ['b', devicesOf('b', 7)],
      ['a', devicesOf('a', 3)],
    ]);

    const batches = planBatches(operationOf(10), bySite, {
      maxDevicesPerBatch: 3,
      maxMessageBytes: 256 * 1024,
    });

    expect(batches.map((b) => [b.batchId, b.deviceCount])).toEqual([
      ['a-00000', 3],
      ['b-00001', 3],
      ['b-00002', 3],
      ['b-00003', 1],
    ]);
  });

  it('halves batches whose message is over the byte limit', () => {
    const batches = planBatches(operationOf(40), new Map([['a', devicesOf('a', 40, 200)]]), {
      maxDevicesPerBatch: 40,
      maxMessageBytes: 3000,
    });

    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) expect(batch.bodyBytes).toBeLessThanOrEqual(3000);
  });

  it('throws 413 when one device alone is over the byte limit', () => {
    const plan = () =>
      planBatches(
        operationOf(1, { script: 'x'.repeat(5000) }),
        new Map([['a', devicesOf('a', 1)]]),
        {
          maxDevicesPerBatch: 50,
          maxMessageBytes: 4096,
        },
      );

    expect(plan).toThrow(PayloadTooLargeError);
  });

  it('sends every device once, in valid messages within both limits', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), fc.integer({ min: 1, max: 60 }), {
          minKeys: 1,
          maxKeys: 4,
        }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1200, max: 20_000 }),
        (sizes, maxDevicesPerBatch, maxMessageBytes) => {
          const bySite = new Map(Object.entries(sizes).map(([s, n]) => [s, devicesOf(s, n, 40)]));
          const total = Object.values(sizes).reduce((a, b) => a + b, 0);

          const batches = planBatches(operationOf(total), bySite, {
            maxDevicesPerBatch,
            maxMessageBytes,
          });

          const sent = batches.flatMap((b) => BatchMessage.parse(JSON.parse(b.body)).devices);
          expect(sent.map((d) => d.deviceId).sort()).toEqual(
            [...bySite.values()]
              .flat()
              .map((d) => d.deviceId)
              .sort(),
          );
          for (const batch of batches) {
            expect(batch.deviceCount).toBeLessThanOrEqual(maxDevicesPerBatch);
            expect(batch.bodyBytes).toBeLessThanOrEqual(maxMessageBytes);
            expect(Buffer.byteLength(batch.body)).toBe(batch.bodyBytes);
          }
          expect(new Set(batches.map((b) => b.batchId)).size).toBe(batches.length);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('toSqsSafeJson', () => {
  const sqsSafe = /^[\x20-\ud7ff\ue000-\ufffd]*$/;

  it('writes only characters SQS takes and parses back to the same value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ unit: 'binary' }), (value, text) => {
        const body = toSqsSafeJson({ value, text });

        expect(body).toMatch(sqsSafe);
        expect(JSON.parse(body)).toEqual(JSON.parse(JSON.stringify({ value, text })));
      }),
    );
  });

  it('escapes an astral character as its surrogate pair and U+FFFF as itself', () => {
    expect(toSqsSafeJson('PC-\u{1F389}\uFFFF')).toBe('"PC-\\ud83c\\udf89\\uffff"');
  });
});
