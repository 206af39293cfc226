import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createLogger } from '../shared/logger.ts';
import { readBatchProgress, readResultBatches } from '../shared/result-batch-store.ts';
import type { DeviceTarget } from '../shared/schemas/device.ts';
import { tableName } from '../shared/tables.ts';
import { type Fleet, startFleet } from '../sim/index.ts';
import { resolveConnectorConfig } from './config.ts';
import { ConnectorService } from './service.ts';
import { eventually, messagesOnQueue, sendBody, statusBatch } from './testing/batches.ts';
import { createSiteQueue, putOperation, startTestCloud, type TestCloud } from './testing/cloud.ts';
import { createTransport } from './transports.ts';

const logger = createLogger('test', { level: 'silent' });
const credentials = { user: 'fleet-admin', password: 'sim-secret' };
const BATCHES = 6;
const DEVICES_PER_BATCH = 10;
const TOTAL = BATCHES * DEVICES_PER_BATCH;
const OPERATION_ID = 'op-sharedqueue01';

/** Two hosts running the same site's connector: one queue, each its own data folder. */
describe('two connectors on one site queue', () => {
  let cloud: TestCloud;
  let fleet: Fleet;
  let dir: string;
  let queueUrl: string;
  const hosts: { name: string; service: ConnectorService; running: Promise<void> }[] = [];

  beforeAll(async () => {
    cloud = await startTestCloud('shared-');
    queueUrl = await createSiteQueue(cloud.sqsClient, cloud.prefix, 'site-a');
    fleet = await startFleet({
      devices: Array.from({ length: TOTAL }, (_, i) => ({
        computerName: `SQ-${String(i + 1).padStart(4, '0')}`,
        faults: { unreachable: i === 0, failStatus: i === 1 },
      })),
      subnet: '127.180.0.0/16',
      siteId: 'site-a',
      // Each batch takes a while, so a connector holding one leaves the next to the other.
      latencyMs: 10,
      ...credentials,
    });
    dir = mkdtempSync(path.join(tmpdir(), 'winfleet-shared-queue-'));
    for (const name of ['host-1', 'host-2']) {
      const service = connectorOn(name);
      hosts.push({ name, service, running: service.run() });
    }
  });

  afterAll(async () => {
    for (const host of hosts) host.service.stop();
    await Promise.all(hosts.map((host) => host.running));
    await fleet?.close();
    await cloud?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function connectorOn(host: string): ConnectorService {
    const config = resolveConnectorConfig(
      {
        siteId: 'site-a',
        dataDir: path.join(dir, host),
        prefix: cloud.prefix,
        dynamodbEndpoint: cloud.dynamodb.endpoint,
        sqsEndpoint: cloud.sqs.endpoint,
        throttleLimit: 5,
        maxBatchesInFlight: 1,
        transport: { type: 'wsman', auth: { type: 'basic', user: credentials.user } },
      },
      path.join(dir, `${host}.json`),
      { WINFLEET_WINRM_PASSWORD: credentials.password },
    );
    const transport = createTransport(config.transport, logger);
    return new ConnectorService({ config, transport, logger, waitTimeSeconds: 1 });
  }

  async function operation() {
    const out = await cloud.documents.send(
      new GetCommand({
        TableName: tableName(cloud.prefix, 'operations'),
        Key: { operationId: OPERATION_ID },
      }),
    );
    return out.Item;
  }

  it('shares the batches, and every device gets exactly one result', async () => {
    const devices: DeviceTarget[] = fleet.devices.map((d) => ({
      deviceId: d.computerName.toLowerCase(),
      computerName: d.computerName,
      address: d.address,
      port: d.port,
    }));
    await putOperation(cloud, OPERATION_ID, TOTAL);
    for (let b = 0; b < BATCHES; b += 1) {
      const batch = statusBatch(OPERATION_ID, DEVICES_PER_BATCH, {
        batchId: `${OPERATION_ID}-b${b + 1}`,
        devices: devices.slice(b * DEVICES_PER_BATCH, (b + 1) * DEVICES_PER_BATCH),
        operationTotal: TOTAL,
        force: true,
      });
      await sendBody(cloud.sqsClient, queueUrl, JSON.stringify(batch));
    }

    await eventually(async () => (await operation())?.status === 'CompletedWithErrors', 2000);
    await eventually(async () => (await messagesOnQueue(cloud.sqsClient, queueUrl)) === 0, 400);

    const ran = hosts.map((host) => archivedBatches(host.name));
    expect(ran.map((batchIds) => batchIds.length > 0)).toEqual([true, true]);
    expect([...(ran[0] ?? []), ...(ran[1] ?? [])].sort()).toEqual(
      Array.from({ length: BATCHES }, (_, b) => `${OPERATION_ID}-b${b + 1}`).sort(),
    );
    const entries = (await readResultBatches(cloud.documents, cloud.prefix, OPERATION_ID)).flatMap(
      (batch) => batch.entries,
    );
    expect(entries.map((entry) => entry.d).sort()).toEqual(devices.map((d) => d.deviceId).sort());
    const counts = { Success: TOTAL - 2, Failed: 1, Unreachable: 1 };
    expect(await operation()).toMatchObject({ done: TOTAL, counts });
    expect(await readBatchProgress(cloud.documents, cloud.prefix, OPERATION_ID)).toEqual({
      done: TOTAL,
      counts,
      batches: BATCHES,
    });
  });

  /** The batches whose results a host's archive holds, each once. */
  function archivedBatches(host: string): string[] {
    const db = new Database(path.join(dir, host, 'archive.db'), { readonly: true });
    try {
      const rows = db.prepare('SELECT DISTINCT batch_id AS batchId FROM results').all();
      return z
        .array(z.object({ batchId: z.string() }))
        .parse(rows)
        .map((row) => row.batchId);
    } finally {
      db.close();
    }
  }
});
