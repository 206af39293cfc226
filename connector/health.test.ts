import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../shared/logger.ts';
import { connectorFor, tempDir, waitFor } from '../test/fault-support.ts';
import { expiredReason, longPollSeconds } from './batch-policy.ts';
import type { ConnectorService } from './service.ts';
import { createSiteQueue, startTestCloud, type TestCloud } from './testing/cloud.ts';

const logger = createLogger('test', { level: 'silent' });

describe('the connector health endpoint', () => {
  let cloud: TestCloud;
  let dir: string;
  let service: ConnectorService;
  let running: Promise<void>;

  beforeAll(async () => {
    cloud = await startTestCloud('health-');
    const queueUrl = await createSiteQueue(cloud.sqsClient, cloud.prefix, 'site-a');
    dir = tempDir('health');
    ({ service } = connectorFor({
      siteId: 'site-a',
      dir,
      prefix: cloud.prefix,
      dynamodbEndpoint: cloud.dynamodb.endpoint,
      sqsEndpoint: cloud.sqs.endpoint,
      queueUrl,
      credentials: { user: 'u', password: 'p' },
      logger,
      settings: { healthPort: 0 },
    }));
    running = service.run();
    await waitFor('the connector to run', () => service.lifecycle.state === 'running');
  });

  afterAll(async () => {
    service?.stop();
    await running;
    await cloud?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (path: string) => fetch(`${service.healthUrl}${path}`);

  it('reports state, queue, outbox and the last cloud contact as JSON', async () => {
    await waitFor('a cloud answer', () => service.health.report().lastCloudContactAt !== null);

    const response = await get('/health');

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      siteId: 'site-a',
      state: 'running',
      queue: { batchesInFlight: 0, devicesInFlight: 0, devicesWaiting: 0 },
      outboxSize: 0,
      lastCloudContactAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      lastCloudErrorAt: null,
    });
  });

  it('serves Prometheus metrics with the connector series', async () => {
    service.health.deviceFinished({ status: 'Failed' });
    service.health.deliveryFailed();

    const response = await get('/metrics');
    const text = await response.text();

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(text).toContain('winfleet_connector_devices_total{state="Failed",siteId="site-a"} 1');
    expect(text).toContain('winfleet_connector_delivery_errors_total{siteId="site-a"} 1');
    expect(text).toMatch(/^winfleet_connector_outbox_size\{siteId="site-a"\} 0$/m);
    expect(text).toMatch(/^winfleet_connector_up\{siteId="site-a"\} 1$/m);
    expect(text).toContain('winfleet_connector_process_resident_memory_bytes');
  });

  it('answers 404 elsewhere and 405 for other methods', async () => {
    expect((await get('/')).status).toBe(404);
    expect((await fetch(`${service.healthUrl}/health`, { method: 'POST' })).status).toBe(405);
  });
});

describe('expiredReason', () => {
  const createdAt = '2026-01-01T00:00:00.000Z';
  const later = (seconds: number) => new Date(Date.parse(createdAt) + seconds * 1000);

  it('never expires a batch at a site with queued actions', () => {
    const config = { queuedActions: true, batchTtlSeconds: 60 };
    expect(expiredReason(config, { createdAt }, later(86_400))).toBeUndefined();
  });

  it('expires a batch past its time-to-live at a site without queued actions', () => {
    const config = { queuedActions: false, batchTtlSeconds: 60 };
    expect(expiredReason(config, { createdAt }, later(60))).toBeUndefined();
    expect(expiredReason(config, { createdAt }, later(61))).toContain('time-to-live of 60 s');
    expect(expiredReason(config, { createdAt: 'not a date' }, later(61))).toBeUndefined();
  });
});

describe('longPollSeconds', () => {
  it('keeps a long poll under a third of the visibility timeout, between 1 and 20 s', () => {
    expect([1, 3, 9, 30, 60, 600].map(longPollSeconds)).toEqual([1, 1, 3, 10, 20, 20]);
  });
});
