import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type CloudEnv, readCloudEnv } from '../shared/config.ts';
import type { Logger } from '../shared/logger.ts';
import type { Device } from '../shared/schemas/device.ts';
import type { Site } from '../shared/schemas/site.ts';
import { type Fleet, fleetCsv, startFleet } from '../sim/index.ts';
import { apiToken } from './api-token.ts';
import { bundleConnector } from './connector-bundle.ts';
import { writeConnectorConfig } from './connector-config.ts';
import { type Emulator, startDynamoDb, startSqs } from './emulators.ts';
import { isAddressInUse, LocalStackError } from './errors.ts';
import { startGateway } from './gateway.ts';
import { type StackPaths, simulatedSiteId, simulatedSubnet, stackPaths } from './layout.ts';
import { createSiteQueue, createTables } from './provision.ts';
import { registerFleet } from './register.ts';
import { startSchedules } from './schedules.ts';
import { lockDataDir } from './stack-lock.ts';
import { Supervisor } from './supervisor.ts';

export interface LocalStackOptions {
  dataDir: string;
  /** Port of the local API gateway; 0 picks a free one. */
  port: number;
  sites: number;
  devicesPerSite: number;
  /** Added to every WinRM exchange of the simulated devices. */
  latencyMs: number;
  logger: Logger;
  /** Credentials the simulated devices accept and the connectors use. */
  winrmUser?: string;
  winrmPassword?: string;
  /** Second octet of the first site's loopback /16 (default 20: 127.20.0.0/16, 127.21...). */
  subnetBase?: number;
  /** Run the EventBridge-like schedules on local timers (default true). */
  schedules?: boolean;
}

export interface LocalStack {
  url: string;
  token: string;
  paths: StackPaths;
  sites: Site[];
  devices: Device[];
  fleets: Fleet[];
  supervisor: Supervisor;
  stop(): Promise<void>;
}

/**
 * Starts the whole system on this machine: DynamoDB and SQS emulators, tables and queues from
 * `shared/`, a simulated fleet per site, the Lambda handlers behind a local HTTP gateway, the
 * schedules on timers, and one supervised connector process per site.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const paths = stackPaths(options.dataDir);
  mkdirSync(paths.logs, { recursive: true });
  const unlock = lockDataDir(paths.stackPid, options.dataDir);
  const stoppers: Array<() => Promise<void>> = [async () => unlock()];
  const stop = async () => {
    for (const s of stoppers.reverse()) await s().catch(() => undefined);
  };
  try {
    const dynamo = await startDynamoDb({ path: paths.dynamoDb });
    stoppers.push(dynamo.stop);
    const sqs = await startSqs();
    stoppers.push(sqs.stop);
    const env = useEmulators(dynamo, sqs);
    const clients = cloudClients(env);
    await createTables(clients.dynamo, env.WINFLEET_PREFIX);

    const sites = simulatedSites(options.sites);
    const user = options.winrmUser ?? 'winfleet';
    const password = options.winrmPassword ?? randomBytes(12).toString('base64url');
    const fleets = await startFleets(options, sites, user, password).catch((error: unknown) => {
      throw addressInUse(
        error,
        `the simulated fleet's loopback addresses (127.${options.subnetBase ?? 20}.x.x:5985) are in use, by another stack or winfleet sim: give --subnet-base`,
      );
    });
    stoppers.push(() => Promise.all(fleets.map((f) => f.close())).then(() => undefined));
    const devices = fleetDevices(fleets, sites);
    writeFileSync(paths.fleetCsv, fleets.map((f) => fleetCsv(f.devices)).join(''));
    writeFileSync(paths.sitesConfig, `${JSON.stringify({ sites }, null, 2)}\n`);
    await registerFleet(clients.doc, env, sites, devices);

    const token = apiToken(paths.apiToken);
    const gateway = await startGateway({ port: options.port, token, logger: options.logger }).catch(
      (error: unknown) => {
        throw addressInUse(error, `port ${options.port} is in use: give another --port`);
      },
    );
    stoppers.push(gateway.close);
    writeFileSync(paths.apiUrl, `${gateway.url}\n`);

    const supervisor = await startConnectors(paths, sites, env, clients.sqs, {
      user,
      password,
      logger: options.logger,
    });
    stoppers.push(() => supervisor.stop());
    if (options.schedules !== false) stoppers.push(startSchedules(options.logger));

    return { url: gateway.url, token, paths, sites, devices, fleets, supervisor, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Turns "address in use" into an error that says what to do; other errors pass unchanged. */
function addressInUse(error: unknown, message: string): unknown {
  return isAddressInUse(error) ? new LocalStackError(message, { cause: error }) : error;
}

/** Points this process's handlers (and the connectors it spawns) at the emulators. */
function useEmulators(dynamo: Emulator, sqs: Emulator): CloudEnv {
  process.env.WINFLEET_DYNAMODB_ENDPOINT = dynamo.endpoint;
  process.env.WINFLEET_SQS_ENDPOINT = sqs.endpoint;
  process.env.AWS_REGION ??= 'us-east-1';
  // The emulators accept any key; these keep the SDK's default chain from looking further.
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  return readCloudEnv(process.env);
}

function cloudClients(env: CloudEnv) {
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const region = env.AWS_REGION;
  const dynamo = new DynamoDBClient({
    region,
    endpoint: env.WINFLEET_DYNAMODB_ENDPOINT,
    credentials,
  });
  const doc = DynamoDBDocumentClient.from(dynamo, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const sqs = new SQSClient({ region, endpoint: env.WINFLEET_SQS_ENDPOINT, credentials });
  return { dynamo, doc, sqs };
}

function simulatedSites(count: number): Site[] {
  return Array.from({ length: count }, (_, i) => ({
    siteId: simulatedSiteId(i),
    name: `Simulated site ${i + 1}`,
    relayAgent: `connector-${simulatedSiteId(i)}.local`,
    directConnect: false,
    syncInterval: 300,
    queuedActions: true,
    throttleLimit: 50,
    timeoutSeconds: 300,
    transport: 'wsman' as const,
  }));
}

function startFleets(options: LocalStackOptions, sites: Site[], user: string, password: string) {
  return Promise.all(
    sites.map((site, i) =>
      startFleet({
        devices: options.devicesPerSite,
        subnet: simulatedSubnet(i, options.subnetBase),
        latencyMs: options.latencyMs,
        user,
        password,
        siteId: site.siteId,
        namePrefix: `S${String(i + 1).padStart(2, '0')}-WS`,
      }),
    ),
  );
}

function fleetDevices(fleets: Fleet[], sites: Site[]): Device[] {
  return fleets.flatMap((fleet, i) =>
    fleet.devices.map((d) => ({
      deviceId: d.computerName.toLowerCase(),
      computerName: d.computerName,
      address: d.address,
      port: d.port,
      siteId: sites[i]?.siteId ?? 'unknown',
      tags: { simulated: 'true' },
    })),
  );
}

async function startConnectors(
  paths: StackPaths,
  sites: Site[],
  env: CloudEnv,
  sqs: SQSClient,
  winrm: { user: string; password: string; logger: Logger },
): Promise<Supervisor> {
  const connectors = [];
  for (const site of sites) {
    const queueUrl = await createSiteQueue(sqs, env.WINFLEET_PREFIX, site.siteId);
    const sitePaths = paths.site(site.siteId);
    mkdirSync(sitePaths.dir, { recursive: true });
    writeConnectorConfig(sitePaths, site, env, queueUrl, winrm);
    connectors.push({ siteId: site.siteId, configPath: sitePaths.connectorConfig });
  }
  const bundlePath = await bundleConnector(winrm.logger);
  const supervisor = new Supervisor({
    connectors,
    logger: winrm.logger,
    ...(bundlePath ? { bundlePath } : {}),
    output: (siteId) => openSync(`${paths.logs}/connector-${siteId}.log`, 'a'),
  });
  supervisor.start();
  return supervisor;
}
