import { setMaxListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Archive, ArchiveWriter } from '../connector/archive/index.ts';
import { BatchWorker } from '../connector/batch-worker.ts';
import { MetricsWriter, ResultDelivery } from '../connector/cloud/index.ts';
import { OperationControl } from '../connector/operation-control.ts';
import { Poller } from '../connector/poller.ts';
import { ok, TestDoubleTransport } from '../connector/testing/test-double-transport.ts';
import { SiteThrottle } from '../connector/throttle.ts';
import { createOperation } from '../functions/lib/create-operation.ts';
import { settleDispatches } from '../functions/lib/dispatch-trigger.ts';
import { getOperation } from '../functions/lib/operations-store.ts';
import { startDynamoDb, startSqs } from '../local/emulators.ts';
import { createSiteQueue, createTables } from '../local/provision.ts';
import { createDocumentClient, createSqsClient } from '../shared/aws.ts';
import { countDynamoDbRequests, countSqsRequests, RequestStats } from '../shared/aws-stats.ts';
import type { CloudEnv } from '../shared/config.ts';
import type { Logger } from '../shared/logger.ts';
import type { Device } from '../shared/schemas/index.ts';
import { tableName } from '../shared/tables.ts';

export interface CostSweepOptions {
  sites: number;
  devicesPerSite: number;
  logger: Logger;
}

/** What one status sweep cost, counted on the control plane's and the connectors' clients. */
export interface CostSweepReport {
  devices: number;
  batches: number;
  status: string;
  counts: Record<string, number>;
  controlPlane: ReturnType<RequestStats['summary']>;
  connectors: ReturnType<RequestStats['summary']>;
  total: {
    computedWriteUnits: number;
    consumedWriteUnits: number;
    sqsCalls: number;
    sqsBilledRequests: number;
    dynamodbCalls: number;
  };
}

/**
 * Runs a status sweep's whole write path against dynalite and fauxqs, with nothing changed
 * since the last sweep (every device was Success and answers Success): the scheduled sweep
 * plans and records the operation, the dispatch sends its batches, and one connector per site
 * (the real poller, batch worker, archive, delivery and metrics writer, with a transport that
 * answers status documents at once instead of WinRM) runs them to the end. Every AWS request
 * on those paths is counted; setting up the fleet is not.
 */
export async function runCostSweep(options: CostSweepOptions): Promise<CostSweepReport> {
  const dir = mkdtempSync(join(tmpdir(), 'winfleet-cost-'));
  const [dynamo, sqsEmulator] = await Promise.all([startDynamoDb(), startSqs()]);
  const env: CloudEnv = {
    WINFLEET_PREFIX: 'cost-',
    AWS_REGION: 'us-east-1',
    WINFLEET_DYNAMODB_ENDPOINT: dynamo.endpoint,
    WINFLEET_SQS_ENDPOINT: sqsEmulator.endpoint,
  };
  const clients = new ClientSet(env);
  try {
    const siteIds = Array.from({ length: options.sites }, (_, s) => `site-${s}`);
    const queueUrls = await provision(env, siteIds, options.devicesPerSite);
    const operationId = await startSweep(env, clients, options.logger);
    await runConnectors({ env, clients, siteIds, queueUrls, dir, operationId, ...options });
    const operation = await getOperation(clients.setup, env, operationId);
    return report(options, operation, clients);
  } finally {
    clients.destroy();
    await Promise.all([dynamo.stop(), sqsEmulator.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Uncounted clients for setup, and counted ones for each side of the write path. */
class ClientSet {
  readonly controlStats = new RequestStats();
  readonly connectorStats = new RequestStats();
  readonly setup: DynamoDBDocumentClient;
  readonly controlDocuments: DynamoDBDocumentClient;
  readonly controlSqs: ReturnType<typeof createSqsClient>;
  readonly connectorDocuments: DynamoDBDocumentClient;
  readonly connectorSqs: ReturnType<typeof createSqsClient>;

  constructor(env: CloudEnv) {
    this.setup = createDocumentClient(env);
    this.controlDocuments = createDocumentClient(env);
    this.controlSqs = createSqsClient(env);
    this.connectorDocuments = createDocumentClient(env);
    this.connectorSqs = createSqsClient(env);
    countDynamoDbRequests(this.controlDocuments, this.controlStats);
    countSqsRequests(this.controlSqs, this.controlStats);
    countDynamoDbRequests(this.connectorDocuments, this.connectorStats);
    countSqsRequests(this.connectorSqs, this.connectorStats);
  }

  destroy(): void {
    for (const client of [this.setup, this.controlDocuments, this.connectorDocuments]) {
      client.destroy();
    }
    this.controlSqs.destroy();
    this.connectorSqs.destroy();
  }
}

async function provision(env: CloudEnv, siteIds: readonly string[], devicesPerSite: number) {
  const admin = new DynamoDBClient({
    region: env.AWS_REGION,
    endpoint: env.WINFLEET_DYNAMODB_ENDPOINT,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const documents = DynamoDBDocumentClient.from(admin);
  const sqs = createSqsClient(env);
  try {
    await createTables(admin, env.WINFLEET_PREFIX);
    const queueUrls = new Map<string, string>();
    for (const siteId of siteIds) {
      queueUrls.set(siteId, await createSiteQueue(sqs, env.WINFLEET_PREFIX, siteId));
    }
    await registerDevices(documents, env, fleet(siteIds, devicesPerSite));
    return queueUrls;
  } finally {
    sqs.destroy();
    admin.destroy();
  }
}

/** Devices as the last sweep left them: each one's last state is Success. */
function fleet(siteIds: readonly string[], devicesPerSite: number) {
  return siteIds.flatMap((siteId, s) =>
    Array.from({ length: devicesPerSite }, (_, i): Device & { lastStatus: string } => ({
      deviceId: `${siteId}-ws-${String(i).padStart(5, '0')}`,
      computerName: `${siteId}-WS-${String(i).padStart(5, '0')}`.toUpperCase(),
      address: `10.${s}.${Math.floor(i / 250)}.${(i % 250) + 1}`,
      port: 5985,
      siteId,
      tags: {},
      lastStatus: 'Success',
    })),
  );
}

async function registerDevices(
  documents: DynamoDBDocumentClient,
  env: CloudEnv,
  devices: readonly Record<string, unknown>[],
) {
  const table = tableName(env.WINFLEET_PREFIX, 'devices');
  const chunks: Record<string, unknown>[][] = [];
  for (let i = 0; i < devices.length; i += 25) chunks.push(devices.slice(i, i + 25) as never);
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      const chunk = chunks[next++] ?? [];
      let pending = chunk.map((Item) => ({ PutRequest: { Item } }));
      while (pending.length > 0) {
        const out = await documents.send(
          new BatchWriteCommand({ RequestItems: { [table]: pending } }),
        );
        pending = (out.UnprocessedItems?.[table] ?? []) as typeof pending;
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

async function startSweep(env: CloudEnv, clients: ClientSet, logger: Logger): Promise<string> {
  const deps = { env, doc: clients.controlDocuments, sqs: clients.controlSqs, logger };
  const created = await createOperation(
    deps,
    { type: 'status', targets: { all: true } },
    { source: 'schedule', logger },
  );
  await settleDispatches();
  return created.operationId;
}

interface ConnectorRun extends CostSweepOptions {
  env: CloudEnv;
  clients: ClientSet;
  siteIds: readonly string[];
  queueUrls: ReadonlyMap<string, string>;
  dir: string;
  operationId: string;
}

/** One connector per site until the operation has ended, then a drain. */
async function runConnectors(run: ConnectorRun): Promise<void> {
  const stop = new AbortController();
  const abort = new AbortController();
  // Every device waiting for the throttle listens on these, as in the connector service.
  setMaxListeners(0, stop.signal, abort.signal);
  const connectors = run.siteIds.map((siteId) => connector(run, siteId));
  const running = connectors.map((c) => c.poller.run({ stop: stop.signal, abort: abort.signal }));
  try {
    await untilEnded(run);
  } finally {
    stop.abort();
    await Promise.all(running);
    for (const c of connectors) {
      await c.metrics.close();
      c.archive.close();
    }
  }
}

function connector(run: ConnectorRun, siteId: string) {
  const { clients, logger, env } = run;
  const documents = clients.connectorDocuments;
  const prefix = env.WINFLEET_PREFIX;
  const archive = new Archive(join(run.dir, `${siteId}.db`));
  const control = new OperationControl({ client: documents, prefix, logger });
  const metrics = new MetricsWriter({ client: documents, prefix, logger });
  const queueUrl = run.queueUrls.get(siteId) ?? '';
  const worker = new BatchWorker({
    siteId,
    sqs: clients.connectorSqs,
    queueUrl,
    archive,
    writer: new ArchiveWriter(archive),
    delivery: new ResultDelivery({
      client: documents,
      prefix,
      logger,
      onProgress: (operationId, progress) => control.observe(operationId, progress),
    }),
    transport: new TestDoubleTransport(statusAnswer, 0),
    throttle: new SiteThrottle(50),
    logger,
    defaultTimeoutSeconds: 60,
    metrics,
    control,
  });
  const poller = new Poller({
    sqs: clients.connectorSqs,
    queueUrl,
    handler: worker,
    logger,
    maxBatchesInFlight: 8,
  });
  return { poller, archive, metrics };
}

/** A status document with figures that differ per device, as real ones do. */
function statusAnswer(device: { deviceId: string; computerName: string }) {
  const seed = [...device.deviceId].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
  const pick = (n: number) => ((seed * (n + 17)) >>> 0) % 1000;
  return ok(
    JSON.stringify({
      computerName: device.computerName,
      uptimeSeconds: 86_400 + pick(1) * 613,
      cpuPercent: pick(2) / 10,
      memoryTotalBytes: 17_179_869_184,
      memoryFreeBytes: 4_000_000_000 + pick(3) * 7_654_321,
      diskFreeBytes: 100_000_000_000 + pick(4) * 98_765_431,
      diskTotalBytes: 511_101_108_224,
      osVersion: '10.0.20348',
    }),
  );
}

async function untilEnded(run: ConnectorRun): Promise<void> {
  for (;;) {
    const operation = await getOperation(run.clients.setup, run.env, run.operationId);
    if (operation && operation.status !== 'Pending' && operation.status !== 'InProgress') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function report(
  options: CostSweepOptions,
  operation: Awaited<ReturnType<typeof getOperation>>,
  clients: ClientSet,
): CostSweepReport {
  const controlPlane = clients.controlStats.summary();
  const connectors = clients.connectorStats.summary();
  return {
    devices: options.sites * options.devicesPerSite,
    batches: operation?.batchCount ?? 0,
    status: operation?.status ?? 'missing',
    counts: operation?.counts ?? {},
    controlPlane,
    connectors,
    total: {
      computedWriteUnits: controlPlane.computedWriteUnits + connectors.computedWriteUnits,
      consumedWriteUnits: controlPlane.consumedWriteUnits + connectors.consumedWriteUnits,
      sqsCalls: controlPlane.sqsCalls + connectors.sqsCalls,
      sqsBilledRequests: controlPlane.sqsBilledRequests + connectors.sqsBilledRequests,
      dynamodbCalls: controlPlane.dynamodbCalls + connectors.dynamodbCalls,
    },
  };
}
