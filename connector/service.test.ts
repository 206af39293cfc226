import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../shared/logger.ts';
import type { DeviceTarget } from '../shared/schemas/device.ts';
import { tableName } from '../shared/tables.ts';
import { type Fleet, startFleet } from '../sim/index.ts';
import { resolveConnectorConfig } from './config.ts';
import { ConnectorService } from './service.ts';
import { eventually, sendBody, statusBatch } from './testing/batches.ts';
import { createSiteQueue, putOperation, startTestCloud, type TestCloud } from './testing/cloud.ts';
import { createTransport } from './transports.ts';

const logger = createLogger('test', { level: 'silent' });
const credentials = { user: 'fleet-admin', password: 'sim-secret' };
const THROTTLE_LIMIT = 5;

describe('the connector against the simulated fleet', () => {
  let cloud: TestCloud;
  let fleet: Fleet;
  let dir: string;
  let service: ConnectorService;
  let running: Promise<void>;
  let queueUrl: string;

  beforeAll(async () => {
    cloud = await startTestCloud();
    queueUrl = await createSiteQueue(cloud.sqsClient, cloud.prefix, 'site-a');
    fleet = await startFleet({
      devices: Array.from({ length: 20 }, (_, i) => ({
        computerName: `WS-${String(i + 1).padStart(4, '0')}`,
        faults: { unreachable: i === 0, failStatus: i === 1 },
      })),
      subnet: '127.12.0.0/16',
      siteId: 'site-a',
      ...credentials,
    });
    dir = mkdtempSync(path.join(tmpdir(), 'winfleet-connector-'));
    const config = resolveConnectorConfig(
      {
        siteId: 'site-a',
        dataDir: path.join(dir, 'site-a'),
        prefix: cloud.prefix,
        dynamodbEndpoint: cloud.dynamodb.endpoint,
        sqsEndpoint: cloud.sqs.endpoint,
        throttleLimit: THROTTLE_LIMIT,
        transport: { type: 'wsman', auth: { type: 'basic', user: credentials.user } },
      },
      path.join(dir, 'connector.json'),
      { WINFLEET_WINRM_PASSWORD: credentials.password },
    );
    service = new ConnectorService({
      config,
      transport: createTransport(config.transport, logger),
      logger,
      waitTimeSeconds: 1,
    });
    running = service.run();
  });

  afterAll(async () => {
    service?.stop();
    await running;
    await fleet?.close();
    await cloud?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function operation(operationId: string) {
    const out = await cloud.documents.send(
      new GetCommand({ TableName: tableName(cloud.prefix, 'operations'), Key: { operationId } }),
    );
    return out.Item;
  }

  it('runs two status operations over WinRM within the site budget', async () => {
    const devices: DeviceTarget[] = fleet.devices.map((d) => ({
      deviceId: d.computerName.toLowerCase(),
      computerName: d.computerName,
      address: d.address,
      port: d.port,
    }));
    const operationIds = ['op-simfleet0001', 'op-simfleet0002'];
    for (const operationId of operationIds) {
      await putOperation(cloud, operationId, 20);
      const batch = statusBatch(operationId, 20, { devices, operationTotal: 20, force: true });
      await sendBody(cloud.sqsClient, queueUrl, JSON.stringify(batch));
    }

    await eventually(async () => {
      const states = await Promise.all(
        operationIds.map(async (id) => (await operation(id))?.status),
      );
      return states.every((s) => s === 'CompletedWithErrors');
    }, 2000);

    for (const operationId of operationIds) {
      expect(await operation(operationId)).toMatchObject({
        done: 20,
        counts: { Success: 18, Failed: 1, Unreachable: 1 },
      });
    }
    expect(fleet.stats.maxActiveCommands).toBeLessThanOrEqual(THROTTLE_LIMIT);
    expect(fleet.stats.maxActiveCommandsPerDevice).toBe(1);
    expect(archivedStates()).toEqual([
      { status: 'Failed', n: 2 },
      { status: 'Success', n: 36 },
      { status: 'Unreachable', n: 2 },
    ]);
  });

  function archivedStates() {
    const db = new Database(path.join(dir, 'site-a', 'archive.db'), { readonly: true });
    try {
      return db
        .prepare(
          `SELECT status, count(*) AS n FROM results WHERE delivered_at IS NOT NULL
           GROUP BY status ORDER BY status`,
        )
        .all();
    } finally {
      db.close();
    }
  }
});
