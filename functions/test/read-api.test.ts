import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaContext } from '../../local/lambda-context.ts';
import { putResultBatch } from '../../shared/result-batch-store.ts';
import type { DeviceResult } from '../../shared/schemas/index.ts';
import { tableName } from '../../shared/tables.ts';
import { handler as sweep } from '../handlers/sweep.ts';
import { encodeCursor } from '../lib/cursor.ts';
import { type ApiStack, fleetOf, siteOf, startApiStack } from './api-stack.ts';

const SITES = ['north', 'south'];
const DEVICES = fleetOf(SITES, 13);

describe('results, devices, sites and the sweep', () => {
  let stack: ApiStack;
  let operationId: string;

  beforeAll(async () => {
    stack = await startApiStack(SITES.map(siteOf), DEVICES);
    const created = await stack.call('POST', '/operations', {
      type: 'status',
      targets: { siteIds: ['north'] },
    });
    operationId = (created.json as { operationId: string }).operationId;
    await writeResults(stack, operationId);
  });
  afterAll(() => stack?.stop());

  async function getAll(path: string, limit: number) {
    const items: { deviceId: string; status?: string }[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const query = `limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
      const sep = path.includes('?') ? '&' : '?';
      const page = await stack.call('GET', `${path}${sep}${query}`);
      expect(page.status).toBe(200);
      const body = page.json as { items: typeof items; nextCursor?: string };
      expect(body.items.length).toBeLessThanOrEqual(limit);
      items.push(...body.items);
      cursor = body.nextCursor;
      pages++;
    } while (cursor);
    return { items, pages };
  }

  it('pages through every result of an operation', async () => {
    const { items, pages } = await getAll(`/operations/${operationId}/results`, 5);

    expect(pages).toBeGreaterThanOrEqual(3);
    expect(items.map((r) => r.deviceId)).toEqual(
      DEVICES.filter((d) => d.siteId === 'north').map((d) => d.deviceId),
    );
    expect(items[1]).toMatchObject({ siteId: 'north', status: 'Success', exitCode: 0 });
  });

  it('filters results by state', async () => {
    const { items } = await getAll(`/operations/${operationId}/results?status=Failed`, 2);

    expect(items.map((r) => r.deviceId)).toEqual([
      'north-dev-000',
      'north-dev-004',
      'north-dev-008',
      'north-dev-012',
    ]);
    expect(items.every((r) => r.status === 'Failed')).toBe(true);
  });

  it('returns 404 for the results of an unknown operation', async () => {
    const response = await stack.call('GET', '/operations/op-0000000000000000/results');
    expect(response.status).toBe(404);
  });

  it.each([
    ['an unknown state', 'status=Bogus'],
    ['a zero limit', 'limit=0'],
    ['a limit that is not a number', 'limit=ten'],
    ['an unknown parameter', 'sort=asc'],
    ['a cursor that is not base64 JSON', 'cursor=%%%'],
  ])('returns 400 for %s', async (_name, query) => {
    const response = await stack.call('GET', `/operations/${operationId}/results?${query}`);

    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ error: { code: expect.any(String) } });
  });

  it.each([
    ['a cursor of the wrong shape', () => encodeCursor({ foo: 'bar' }, { operationId })],
    [
      "another operation's key under this operation's scope",
      () =>
        encodeCursor(
          { operationId: 'op-1111111111', itemKey: 'batch#b', deviceId: 'x' },
          { operationId },
        ),
    ],
    [
      'a cursor of this operation with another status filter',
      () => encodeCursor({ operationId, itemKey: 'batch#b', deviceId: 'x' }, { operationId }),
      'status=Failed',
    ],
  ])('returns 400 InvalidCursor for %s', async (_name, cursorOf, filter = '') => {
    const query = `${filter}&cursor=${cursorOf()}`;
    const response = await stack.call('GET', `/operations/${operationId}/results?${query}`);

    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ error: { code: 'InvalidCursor' } });
  });

  it('returns 400 InvalidCursor for an operations list cursor given to the results', async () => {
    const list = await stack.call('GET', '/operations?limit=1');
    const cursor = (list.json as { nextCursor?: string }).nextCursor;
    const response = await stack.call('GET', `/operations/${operationId}/results?cursor=${cursor}`);

    expect(response.json).toMatchObject({ error: { code: 'InvalidCursor' } });
  });

  it('pages through every device', async () => {
    const { items } = await getAll('/devices', 7);

    expect(items.map((d) => d.deviceId).sort()).toEqual(DEVICES.map((d) => d.deviceId).sort());
  });

  it('lists the devices of one site', async () => {
    const { items } = await getAll('/devices?siteId=south', 4);

    expect(items).toHaveLength(13);
    expect(items[0]).toMatchObject({ deviceId: 'south-dev-000', siteId: 'south', port: 5985 });
  });

  it('lists the devices whose last state is the one asked for', async () => {
    const table = tableName(stack.env.WINFLEET_PREFIX, 'devices');
    for (const deviceId of ['south-dev-003', 'south-dev-011', 'north-dev-005']) {
      await stack.doc.send(
        new UpdateCommand({
          TableName: table,
          Key: { deviceId },
          UpdateExpression: 'SET lastStatus = :s',
          ExpressionAttributeValues: { ':s': 'Unreachable' },
        }),
      );
    }

    const atSouth = await getAll('/devices?siteId=south&status=Unreachable', 1);
    const everywhere = await getAll('/devices?status=Unreachable', 2);

    expect(atSouth.items.map((d) => d.deviceId)).toEqual(['south-dev-003', 'south-dev-011']);
    expect(everywhere.items.map((d) => d.deviceId).sort()).toEqual([
      'north-dev-005',
      'south-dev-003',
      'south-dev-011',
    ]);
  });

  it('returns 400 for a malformed site id', async () => {
    const response = await stack.call('GET', '/devices?siteId=Not_A_Slug');
    expect(response.status).toBe(400);
  });

  it.each([
    ['a cursor of one site reused for another', '?siteId=north', '?siteId=south'],
    ['an unfiltered cursor reused with a site', '', '?siteId=south'],
    [
      'a status cursor (after the update above) reused with a site',
      '?status=Unreachable',
      '?siteId=south',
    ],
    ['a site cursor reused without it', '?siteId=north', ''],
  ])('returns 400 InvalidCursor for %s on GET /devices', async (_name, first, second) => {
    const sep = (path: string) => (path ? '&' : '?');
    const page = await stack.call('GET', `/devices${first}${sep(first)}limit=1`);
    const cursor = (page.json as { nextCursor?: string }).nextCursor;
    expect(cursor).toBeDefined();

    const reused = await stack.call('GET', `/devices${second}${sep(second)}cursor=${cursor}`);

    expect(reused.status).toBe(400);
    expect(reused.json).toMatchObject({ error: { code: 'InvalidCursor' } });
  });

  it('lists the sites', async () => {
    const response = await stack.call('GET', '/sites');

    expect(response.status).toBe(200);
    // The operation created in beforeAll left one batch waiting in north's queue.
    expect(response.json).toEqual({
      items: [
        { ...siteOf('north'), queueDepth: 1, queueInFlight: 0 },
        { ...siteOf('south'), queueDepth: 0, queueInFlight: 0 },
      ],
    });
  });

  it('starts a sweep over every device from a scheduled event', async () => {
    await Promise.all(SITES.map((siteId) => stack.drainBatches(siteId)));
    const event = { 'detail-type': 'Scheduled Event', detail: { operationType: 'inventory' } };

    const outcome = await sweep(event, lambdaContext('sweep'));

    expect(outcome).toMatchObject({ total: 26, siteIds: ['north', 'south'], status: 'Pending' });
    const id = (outcome as { operationId: string }).operationId;
    const read = await stack.call('GET', `/operations/${id}`);
    expect(read.json).toMatchObject({ source: 'schedule', type: 'inventory', total: 26 });
    const batches = await stack.drainBatches('south');
    expect(batches.map((b) => b.devices.length)).toEqual([13]);
  });

  it('rejects a scheduled event that names no sweep type', async () => {
    await expect(sweep({ detail: {} }, lambdaContext('sweep'))).rejects.toThrow();
  });

  it('never answers 5xx to an arbitrary JSON body', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 3 }), async (body) => {
        const response = await stack.call('POST', '/operations', JSON.stringify(body));
        expect(response.status).toBeLessThan(500);
      }),
      { numRuns: 60 },
    );
  });
});

/** Results as a connector writes them: every fourth device Failed, the rest Success. */
async function writeResults(stack: ApiStack, operationId: string): Promise<void> {
  const north = DEVICES.filter((d) => d.siteId === 'north');
  const results: DeviceResult[] = north.map((device, i) => {
    const failed = i % 4 === 0;
    return {
      operationId,
      deviceId: device.deviceId,
      siteId: 'north',
      batchId: i < 7 ? 'north-00000' : 'north-00001',
      status: failed ? 'Failed' : 'Success',
      exitCode: failed ? 1 : 0,
      stdout: failed ? '' : '{"reachable":true}',
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:01.000Z',
      durationMs: 1000,
    };
  });
  const ref = { operationId, siteId: 'north' };
  const prefix = stack.env.WINFLEET_PREFIX;
  await putResultBatch(stack.doc, prefix, { ...ref, batchId: 'north-00001' }, results.slice(7));
  await putResultBatch(stack.doc, prefix, { ...ref, batchId: 'north-00000' }, results.slice(0, 7));
}
