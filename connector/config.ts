import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { SiteId } from '../shared/schemas/site.ts';
import { ConnectorConfigError } from './errors.ts';

/** Environment variable that may hold the WinRM password instead of the config file. */
export const PASSWORD_ENV = 'WINFLEET_WINRM_PASSWORD';

const BasicAuth = z.strictObject({
  type: z.literal('basic'),
  user: z.string().min(1),
  /** Optional here: the password may come from `WINFLEET_WINRM_PASSWORD` instead. */
  password: z.string().min(1).optional(),
});

const WsmanTransportConfig = z.strictObject({
  type: z.literal('wsman'),
  auth: BasicAuth,
  /** Dial 5986 over TLS instead of 5985 over HTTP. */
  https: z.boolean().optional(),
});

/** PSSessions through a local pwsh/powershell (connectors on Windows hosts). */
const PowerShellTransportConfig = z.strictObject({
  type: z.literal('powershell'),
  auth: BasicAuth.extend({ type: z.enum(['basic', 'negotiate', 'kerberos']) }),
  /** New-PSSession -UseSSL. */
  https: z.boolean().optional(),
  /** `pwsh` or `powershell`, a name on PATH or a path; by platform when absent. */
  executable: z.string().min(1).optional(),
  /** Local PowerShell processes, so invocations at once; 8 when absent. */
  processes: z.number().int().min(1).max(256).optional(),
});

/** The connector's config file. Unknown keys are an error. */
export const ConnectorConfigFile = z.strictObject({
  siteId: SiteId,
  /** The site's folder: holds `archive.db` and `connector.pid`. */
  dataDir: z.string().min(1),
  prefix: z
    .string()
    .regex(/^[a-z0-9-]*$/)
    .default('winfleet-'),
  region: z.string().min(1).default('us-east-1'),
  dynamodbEndpoint: z.url().optional(),
  sqsEndpoint: z.url().optional(),
  /** The site's queue; without it the connector asks SQS for the URL of `siteQueueName`. */
  queueUrl: z.url().optional(),
  /** Devices in flight at once across every operation at the site. */
  throttleLimit: z.number().int().min(1).max(1000).default(50),
  /** Each operation starts at 1 device and doubles up to its limit (reloaded live). */
  rampUp: z.boolean().default(false),
  /** A device's start waits a random 0 to this many ms (reloaded live). */
  jitterMs: z.number().int().min(0).max(60_000).default(0),
  /** Delivered results and metric points older than this are deleted from the archive. */
  archiveRetentionDays: z.number().int().min(1).max(3650).default(30),
  /** Per-device timeout when the operation does not set one. */
  defaultTimeoutSeconds: z.number().int().min(1).max(86_400).default(300),
  /** Batches (SQS messages) held at once; their devices share the throttle budget. */
  maxBatchesInFlight: z.number().int().min(1).max(100).default(8),
  /** How long a drain waits for devices in flight before it aborts them. */
  drainGraceSeconds: z.number().int().min(0).max(3600).default(30),
  /**
   * The site's `syncInterval`: the outbox (results the cloud has not accepted) is retried at
   * least this often; after a failed attempt the retry backs off from 1 s, doubling, up to it.
   */
  syncIntervalSeconds: z.number().positive().max(86_400).default(300),
  /** The site's `queuedActions`: false makes batches older than `batchTtlSeconds` Expired. */
  queuedActions: z.boolean().default(true),
  /** Age (from the batch's createdAt) past which a site without queued actions runs nothing. */
  batchTtlSeconds: z
    .number()
    .int()
    .min(1)
    .max(14 * 86_400)
    .default(3600),
  /** Seconds between two writes of the connector's health to its site's item (GET /sites). */
  healthReportSeconds: z.number().positive().max(86_400).default(60),
  /** Port of `GET /health` and `GET /metrics` on `healthHost`; absent: not served. */
  healthPort: z.number().int().min(0).max(65_535).optional(),
  healthHost: z.string().min(1).default('127.0.0.1'),
  /** How the site's devices are reached: `wsman` (any host) or `powershell` (Windows hosts). */
  transport: z.discriminatedUnion('type', [WsmanTransportConfig, PowerShellTransportConfig]),
});
export type ConnectorConfigFile = z.infer<typeof ConnectorConfigFile>;

/** The config after loading: the password resolved, paths made absolute. */
export interface ConnectorConfig extends ConnectorConfigFile {
  transport: ConnectorConfigFile['transport'] & {
    auth: { user: string; password: string };
  };
  archivePath: string;
  pidPath: string;
}

/** Reads, validates and completes a connector config file. */
export async function loadConnectorConfig(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ConnectorConfig> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new ConnectorConfigError('cannot read the config as JSON', file, { cause: error });
  }
  return resolveConnectorConfig(raw, file, env);
}

/** Validates a parsed config document; `file` names it in errors and anchors relative paths. */
export function resolveConnectorConfig(
  raw: unknown,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): ConnectorConfig {
  const parsed = ConnectorConfigFile.safeParse(raw);
  if (!parsed.success) {
    throw new ConnectorConfigError(`invalid config: ${z.prettifyError(parsed.error)}`, file);
  }
  const config = parsed.data;
  const password = config.transport.auth.password ?? env[PASSWORD_ENV];
  if (!password) {
    throw new ConnectorConfigError(
      `no WinRM password: set transport.auth.password or ${PASSWORD_ENV}`,
      file,
    );
  }
  const dataDir = path.resolve(path.dirname(file), config.dataDir);
  return {
    ...config,
    dataDir,
    transport: withPassword(config.transport, password),
    archivePath: path.join(dataDir, 'archive.db'),
    pidPath: path.join(dataDir, 'connector.pid'),
  };
}

function withPassword<T extends { auth: object }>(
  transport: T,
  password: string,
): T & { auth: { password: string } } {
  return { ...transport, auth: { ...transport.auth, password } };
}
