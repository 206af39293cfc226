import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { startDynamoDb, startSqs } from '../../local/emulators.ts';
import { type Gateway, startGateway } from '../../local/gateway.ts';
import { createSiteQueue, createTables } from '../../local/provision.ts';
import { createDocumentClient, createSqsClient } from '../../shared/aws.ts';
import { readCloudEnv } from '../../shared/config.ts';
import { createLogger } from '../../shared/logger.ts';
import { BatchMessage, type Device, type Site } from '../../shared/schemas/index.ts';
import { putDevices } from '../lib/devices-store.ts';
import { settleDispatches } from '../lib/dispatch-trigger.ts';
import { putSites } from '../lib/sites-store.ts';

/** A control plane on emulators behind the local gateway, for tests over real HTTP. */
export interface ApiStack {
  gateway: Gateway;
  token: string;
  env: ReturnType<typeof readCloudEnv>;
  doc: ReturnType<typeof createDocumentClient>;
  sqs: ReturnType<typeof createSqsClient>;
  queueUrls: Map<string, string>;
  /** Calls the API with the token; `body` is sent as JSON unless it is a string. */
  call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }>;
  /** Receives every message waiting on a site's queue, parsed as batch messages. */
  drainBatches(siteId: string): Promise<BatchMessage[]>;
  stop(): Promise<void>;
}

/** Devices `<siteId>-dev-000`..., `count` per site, tagged by parity. */
export function fleetOf(siteIds: readonly string[], count: number): Device[] {
  return siteIds.flatMap((siteId, s) =>
    Array.from({ length: count }, (_, i) => {
      const deviceId = `${siteId}-dev-${String(i).padStart(3, '0')}`;
      return {
        deviceId,
        computerName: deviceId.toUpperCase(),
        address: `127.9.${s}.${i + 1}`,
        port: 5985,
        siteId,
        tags: { ring: i % 2 === 0 ? 'even' : 'odd' },
      };
    }),
  );
}

/**
 * Starts dynalite and fauxqs, creates tables and one queue per site, registers the sites and
 * devices, and points this process's handlers at the emulators.
 */
export async function startApiStack(sites: Site[], devices: Device[]): Promise<ApiStack> {
  const dynamo = await startDynamoDb();
  const sqsEmulator = await startSqs();
  const prefix = `t${randomBytes(3).toString('hex')}-`;
  Object.assign(process.env, {
    WINFLEET_PREFIX: prefix,
    WINFLEET_DYNAMODB_ENDPOINT: dynamo.endpoint,
    WINFLEET_SQS_ENDPOINT: sqsEmulator.endpoint,
    AWS_REGION: 'us-east-1',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
  });
  const env = readCloudEnv();
  const doc = createDocumentClient(env);
  const sqs = createSqsClient(env);
  const dynamoClient = new DynamoDBClient({
    region: env.AWS_REGION,
    endpoint: dynamo.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await createTables(dynamoClient, prefix);
  dynamoClient.destroy();
  const queueUrls = new Map<string, string>();
  for (const site of sites)
    queueUrls.set(site.siteId, await createSiteQueue(sqs, prefix, site.siteId));
  await putSites(doc, env, sites);
  await putDevices(doc, env, devices);
  const token = randomBytes(16).toString('hex');
  const gateway = await startGateway({
    port: 0,
    token,
    logger: createLogger('test', { level: 'silent' }),
  });

  const call: ApiStack['call'] = async (method, path, body) => {
    const response = await fetch(`${gateway.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : undefined };
  };
  const drainBatches = async (siteId: string) => {
    // Operations are dispatched in the background of this process: wait until they are sent.
    await settleDispatches();
    const messages: BatchMessage[] = [];
    for (;;) {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrls.get(siteId),
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
        }),
      );
      if (!out.Messages?.length) return messages;
      for (const m of out.Messages) messages.push(BatchMessage.parse(JSON.parse(m.Body ?? '')));
    }
  };
  const stop = async () => {
    await gateway.close();
    doc.destroy();
    sqs.destroy();
    await sqsEmulator.stop();
    await dynamo.stop();
  };
  return { gateway, token, env, doc, sqs, queueUrls, call, drainBatches, stop };
}

/** A site configuration with defaults, as the sites table holds it. */
export function siteOf(siteId: string): Site {
  return {
    siteId,
    name: `Site ${siteId}`,
    relayAgent: null,
    directConnect: false,
    syncInterval: 300,
    queuedActions: true,
    throttleLimit: 50,
    timeoutSeconds: 300,
    transport: 'wsman',
  };
}
