import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../shared/routes.ts';
import { tableName } from '../../shared/tables.ts';
import { type ApiStack, fleetOf, siteOf, startApiStack } from './api-stack.ts';

const SITES = ['east', 'west'];

describe('operation list and cancel, device and site registration, OpenAPI', () => {
  let stack: ApiStack;
  const created: string[] = [];

  beforeAll(async () => {
    stack = await startApiStack(SITES.map(siteOf), fleetOf(SITES, 4));
    for (let i = 0; i < 5; i++) {
      const response = await stack.call('POST', '/operations', {
        type: 'status',
        targets: { siteIds: ['east'] },
      });
      created.push((response.json as { operationId: string }).operationId);
    }
  });
  afterAll(() => stack?.stop());

  it('lists operations newest first across pages', async () => {
    const ids: string[] = [];
    const times: string[] = [];
    let cursor: string | undefined;
    do {
      const response = await stack.call(
        'GET',
        `/operations?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(response.status).toBe(200);
      const page = response.json as {
        items: { operationId: string; createdAt: string }[];
        nextCursor?: string;
      };
      ids.push(...page.items.map((op) => op.operationId));
      times.push(...page.items.map((op) => op.createdAt));
      cursor = page.nextCursor;
    } while (cursor);

    // Operations created within one millisecond share createdAt, so ties may come in any order.
    expect([...ids].sort()).toEqual([...created].sort());
    expect(times).toEqual([...times].sort().reverse());
    expect(ids[0]).not.toBe(created[0]);
  });

  it('returns 400 for a forged list cursor', async () => {
    const forged = Buffer.from('{"listKey":"other"}').toString('base64url');
    const response = await stack.call('GET', `/operations?cursor=${forged}`);
    expect(response.status).toBe(400);
  });

  it('cancels an operation in progress, and again without error', async () => {
    const id = created[0];

    const first = await stack.call('POST', `/operations/${id}/cancel`);
    const second = await stack.call('POST', `/operations/${id}/cancel`);

    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ operationId: id, status: 'Cancelled' });
    expect(second.status).toBe(200);
  });

  it('returns 409 when cancelling an operation that ended', async () => {
    const id = created[1];
    await stack.doc.send(
      new UpdateCommand({
        TableName: tableName(stack.env.WINFLEET_PREFIX, 'operations'),
        Key: { operationId: id },
        UpdateExpression: 'SET #s = :s',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':s': 'Success' },
      }),
    );

    const response = await stack.call('POST', `/operations/${id}/cancel`);

    expect(response.status).toBe(409);
    expect(response.json).toMatchObject({ error: { code: 'OperationEnded' } });
  });

  it('returns 404 when cancelling an unknown operation', async () => {
    const response = await stack.call('POST', '/operations/op-0000000000000000/cancel');
    expect(response.status).toBe(404);
  });

  it('registers a device and keeps what connectors wrote about it', async () => {
    const table = tableName(stack.env.WINFLEET_PREFIX, 'devices');
    const body = { computerName: 'NEW-01', address: '10.1.2.3', siteId: 'west' };
    await stack.call('PUT', '/devices/new-01', body);
    await stack.doc.send(
      new UpdateCommand({
        TableName: table,
        Key: { deviceId: 'new-01' },
        UpdateExpression: 'SET lastStatus = :s',
        ExpressionAttributeValues: { ':s': 'Success' },
      }),
    );

    const response = await stack.call('PUT', '/devices/new-01', { ...body, tags: { ring: 'b' } });

    expect(response.status).toBe(200);
    expect(response.json).toEqual({ ...body, deviceId: 'new-01', port: 5985, tags: { ring: 'b' } });
    const stored = await stack.doc.send(
      new GetCommand({ TableName: table, Key: { deviceId: 'new-01' } }),
    );
    expect(stored.Item).toMatchObject({ lastStatus: 'Success', tags: { ring: 'b' } });
  });

  it.each([
    [
      'a device of an unknown site',
      '/devices/x-1',
      { computerName: 'X', address: 'x', siteId: 'north' },
      'UnknownSite',
    ],
    [
      'a mismatched device id',
      '/devices/x-1',
      { deviceId: 'x-2', computerName: 'X', address: 'x', siteId: 'east' },
      'IdMismatch',
    ],
    [
      'a device with an unknown key',
      '/devices/x-1',
      { computerName: 'X', address: 'x', siteId: 'east', os: 'w' },
      'ValidationFailed',
    ],
    [
      'a device without an address',
      '/devices/x-1',
      { computerName: 'X', siteId: 'east' },
      'ValidationFailed',
    ],
    [
      'a site with an unknown key',
      '/sites/north',
      { name: 'North', throttle: 5 },
      'ValidationFailed',
    ],
    ['a site with a bad id', '/sites/North_1', { name: 'North' }, 'ValidationFailed'],
    ['a mismatched site id', '/sites/north', { siteId: 'south', name: 'North' }, 'IdMismatch'],
  ])('returns 400 for %s', async (_name, path, body, code) => {
    const response = await stack.call('PUT', path, body);

    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ error: { code } });
  });

  it('registers a site with the defaults of the seed schema', async () => {
    const response = await stack.call('PUT', '/sites/north', { name: 'North', throttleLimit: 20 });
    const sites = await stack.call('GET', '/sites');

    expect(response.status).toBe(200);
    expect(response.json).toEqual({ ...siteOf('north'), name: 'North', throttleLimit: 20 });
    expect((sites.json as { items: { siteId: string }[] }).items.map((s) => s.siteId)).toEqual([
      'east',
      'north',
      'west',
    ]);
  });

  it('serves an OpenAPI 3.1 document of every route', async () => {
    const response = await stack.call('GET', '/openapi.json');
    const document = response.json as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: unknown; parameters?: unknown[] }>>;
    };

    expect(response.status).toBe(200);
    expect(document.openapi).toBe('3.1.0');
    for (const route of ROUTES) {
      expect(document.paths[route.path]?.[route.method.toLowerCase()]).toBeDefined();
    }
    expect(document.paths['/operations']?.post?.requestBody).toMatchObject({
      content: { 'application/json': { schema: { oneOf: expect.any(Array) } } },
    });
    expect(document.paths['/operations/{id}/results']?.get?.parameters).toContainEqual(
      expect.objectContaining({ name: 'status', in: 'query', required: false }),
    );
  });
});
