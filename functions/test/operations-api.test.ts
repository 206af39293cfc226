import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OperationId } from '../../shared/schemas/index.ts';
import { type ApiStack, fleetOf, siteOf, startApiStack } from './api-stack.ts';

const SITES = ['alpha', 'beta', 'gamma'];
const DEVICES = [...fleetOf(['alpha'], 60), ...fleetOf(['beta'], 5), ...fleetOf(['gamma'], 3)].map(
  (device, i) => ({ ...device, address: `127.9.0.${i}` }),
);

const ErrorShape = {
  error: { code: expect.any(String), message: expect.any(String) },
};

describe('POST /operations and GET /operations/{id}', () => {
  let stack: ApiStack;

  beforeAll(async () => {
    stack = await startApiStack(SITES.map(siteOf), DEVICES);
  });
  afterAll(() => stack?.stop());
  afterEach(async () => {
    for (const siteId of SITES) await stack.drainBatches(siteId);
  });

  it('queues batches per site over three sites and records the operation', async () => {
    const created = await stack.call('POST', '/operations', {
      type: 'status',
      targets: { all: true },
      rateControl: { throttleLimit: 5, maxErrors: '10%' },
    });

    expect(created.status).toBe(202);
    expect(created.json).toEqual({
      operationId: expect.stringMatching(/^op-[0-9a-z]{21}$/),
      status: 'Pending',
      total: 68,
      siteIds: ['alpha', 'beta', 'gamma'],
      batchCount: 3,
    });
    const { operationId } = created.json as { operationId: string };
    expect(OperationId.safeParse(operationId).success).toBe(true);

    const alpha = await stack.drainBatches('alpha');
    const beta = await stack.drainBatches('beta');
    const gamma = await stack.drainBatches('gamma');
    expect(alpha.map((b) => b.devices.length)).toEqual([60]);
    expect(beta.map((b) => b.devices.length)).toEqual([5]);
    expect(gamma.map((b) => b.devices.length)).toEqual([3]);
    const all = [...alpha, ...beta, ...gamma];
    for (const batch of all) {
      expect(batch).toMatchObject({
        operationId,
        type: 'status',
        operationTotal: 68,
        rateControl: { throttleLimit: 5, maxErrors: '10%' },
      });
    }
    expect(new Set(all.map((b) => b.batchId)).size).toBe(3);
    const sent = all.flatMap((b) => b.devices.map((d) => d.deviceId)).sort();
    expect(sent).toEqual(DEVICES.map((d) => d.deviceId).sort());
    expect(alpha.every((b) => b.siteId === 'alpha')).toBe(true);

    const read = await stack.call('GET', `/operations/${operationId}`);
    expect(read.status).toBe(200);
    expect(read.json).toMatchObject({
      operationId,
      type: 'status',
      status: 'InProgress',
      total: 68,
      done: 0,
      counts: {},
      siteIds: ['alpha', 'beta', 'gamma'],
      batchCount: 3,
      source: 'api',
      targets: { all: true },
    });
  });

  it('targets the devices of named sites only', async () => {
    const created = await stack.call('POST', '/operations', {
      type: 'inventory',
      targets: { siteIds: ['beta', 'gamma'] },
    });

    expect(created.json).toMatchObject({ total: 8, siteIds: ['beta', 'gamma'], batchCount: 2 });
    expect(await stack.drainBatches('alpha')).toEqual([]);
    expect((await stack.drainBatches('beta'))[0]?.type).toBe('inventory');
  });

  it('targets devices by id, ignoring duplicates', async () => {
    const created = await stack.call('POST', '/operations', {
      type: 'service',
      targets: { deviceIds: ['alpha-dev-001', 'gamma-dev-002', 'alpha-dev-001'] },
      parameters: { name: 'Spooler', action: 'restart' },
    });

    expect(created.status).toBe(202);
    expect(created.json).toMatchObject({ total: 2, siteIds: ['alpha', 'gamma'] });
    const [batch] = await stack.drainBatches('gamma');
    expect(batch?.devices).toEqual([
      {
        deviceId: 'gamma-dev-002',
        computerName: 'GAMMA-DEV-002',
        address: '127.9.0.67',
        port: 5985,
      },
    ]);
    expect(batch?.parameters).toEqual({ name: 'Spooler', action: 'restart' });
  });

  it('targets devices by tags', async () => {
    const created = await stack.call('POST', '/operations', {
      type: 'status',
      targets: { tags: { ring: 'odd' } },
    });

    expect(created.json).toMatchObject({ total: 30 + 2 + 1 });
  });

  it.each([
    ['malformed JSON', '{"type": "status",', 400, 'MalformedJson'],
    ['an empty body', undefined, 400, 'ValidationFailed'],
    ['a JSON null', 'null', 400, 'ValidationFailed'],
    ['an array', '[]', 400, 'ValidationFailed'],
    ['a wrong type', { type: 5, targets: { all: true } }, 400, 'ValidationFailed'],
    ['an unknown type', { type: 'reboot', targets: { all: true } }, 400, 'ValidationFailed'],
    [
      'an unknown key',
      { type: 'status', targets: { all: true }, extra: 1 },
      400,
      'ValidationFailed',
    ],
    ['empty targets', { type: 'status', targets: {} }, 400, 'ValidationFailed'],
    ['an empty siteIds', { type: 'status', targets: { siteIds: [] } }, 400, 'ValidationFailed'],
    ['all: false', { type: 'status', targets: { all: false } }, 400, 'ValidationFailed'],
    [
      'a script without parameters',
      { type: 'script', targets: { all: true } },
      400,
      'ValidationFailed',
    ],
    [
      'unknown device ids',
      { type: 'status', targets: { deviceIds: ['alpha-dev-001', 'nope'] } },
      400,
      'UnknownDevices',
    ],
    [
      'unknown site ids',
      { type: 'status', targets: { siteIds: ['alpha', 'delta'] } },
      400,
      'UnknownSites',
    ],
    [
      'tags matching nothing',
      { type: 'status', targets: { tags: { ring: 'none' } } },
      422,
      'NoMatchingDevices',
    ],
  ])('returns 4xx for %s', async (_name, body, status, code) => {
    const response = await stack.call('POST', '/operations', body);

    expect(response.status).toBe(status);
    expect(response.json).toMatchObject(ErrorShape);
    expect(response.json).toMatchObject({ error: { code } });
  });

  it('lists zod issues in a validation error', async () => {
    const response = await stack.call('POST', '/operations', { type: 'status', targets: 7 });

    expect(response.json).toMatchObject({
      error: { details: [expect.objectContaining({ path: ['targets'] })] },
    });
  });

  it('names the unknown device ids', async () => {
    const response = await stack.call('POST', '/operations', {
      type: 'status',
      targets: { deviceIds: ['nope-1', 'alpha-dev-000', 'nope-2'] },
    });

    expect(response.json).toMatchObject({
      error: { details: { count: 2, deviceIds: ['nope-1', 'nope-2'] } },
    });
  });

  it('returns 415 for a body that is not JSON', async () => {
    const response = await fetch(`${stack.gateway.url}/operations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'text/plain' },
      body: 'type=status',
    });

    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({ error: { code: 'UnsupportedMediaType' } });
  });

  it('returns 404 for an unknown operation and 400 for a malformed id', async () => {
    const unknown = await stack.call('GET', '/operations/op-0000000000000000');
    const malformed = await stack.call('GET', '/operations/not-an-id');

    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ error: { code: 'NotFound' } });
    expect(malformed.status).toBe(400);
    expect(malformed.json).toMatchObject({ error: { code: 'ValidationFailed' } });
  });
});
