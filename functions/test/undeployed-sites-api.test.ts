import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaContext } from '../../local/lambda-context.ts';
import { handler as sweep } from '../handlers/sweep.ts';
import { putDevices } from '../lib/devices-store.ts';
import { type ApiStack, fleetOf, siteOf, startApiStack } from './api-stack.ts';

/** `ready` has a queue; `added` was registered with PUT /sites/{id} and has none. */
describe('operations over a site without a queue', () => {
  let stack: ApiStack;

  beforeAll(async () => {
    stack = await startApiStack([siteOf('ready')], fleetOf(['ready'], 4));
    const added = await stack.call('PUT', '/sites/added', { name: 'Added later' });
    expect(added.status).toBe(200);
    await putDevices(stack.doc, stack.env, fleetOf(['added'], 3));
  });
  afterAll(() => stack?.stop());

  it('answers 409 SiteNotDeployed to targets naming the site or its devices', async () => {
    for (const targets of [{ siteIds: ['ready', 'added'] }, { deviceIds: ['added-dev-001'] }]) {
      const response = await stack.call('POST', '/operations', { type: 'status', targets });

      expect(response.status).toBe(409);
      expect(response.json).toEqual({
        error: {
          code: 'SiteNotDeployed',
          message: expect.stringContaining('added'),
          details: {
            siteIds: ['added'],
            queueNames: [`${stack.env.WINFLEET_PREFIX}site-added`],
            action: expect.stringMatching(/deploy/),
          },
        },
      });
    }
    const listed = await stack.call('GET', '/operations');
    expect(listed.json).toEqual({ items: [] });
  });

  it('leaves the site out of an all operation and reports it as skipped', async () => {
    const created = await stack.call('POST', '/operations', {
      type: 'status',
      targets: { all: true },
    });

    expect(created.status).toBe(202);
    expect(created.json).toMatchObject({
      total: 4,
      siteIds: ['ready'],
      skipped: [{ siteId: 'added', reason: 'SiteNotDeployed', devices: 3 }],
    });
    const batches = await stack.drainBatches('ready');
    expect(batches.flatMap((b) => b.devices)).toHaveLength(4);
    const { operationId } = created.json as { operationId: string };
    const read = await stack.call('GET', `/operations/${operationId}`);
    expect(read.json).toMatchObject({
      status: 'InProgress',
      total: 4,
      skipped: [{ siteId: 'added' }],
    });
  });

  it('sweeps the devices of deployed sites only', async () => {
    const outcome = await sweep({ operationType: 'status' }, lambdaContext('sweep'));

    expect(outcome).toMatchObject({ total: 4, skipped: [{ siteId: 'added', devices: 3 }] });
    const batches = await stack.drainBatches('ready');
    expect(batches.flatMap((b) => b.devices)).toHaveLength(4);
  });
});
