import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Logger } from '../../shared/logger.ts';
import type { DeviceTarget } from '../../shared/schemas/device.ts';
import type { CommandOutcome, RunOptions, Transport } from '../transport.ts';
import { CleanupQueue } from './cleanup.ts';
import { WinrsClient } from './client.ts';
import { type WsmanAuth, WsmanHttpClient } from './http.ts';
import { runScript } from './run.ts';
import { ShellPool } from './shell-pool.ts';

export { type DecodedClixml, decodeClixml } from './clixml.ts';
export { type DecodedWsmanResponse, decodeWsmanResponse } from './decode.ts';
export * from './errors.ts';

const Auth = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('basic'), user: z.string().min(1), password: z.string() }),
  z.strictObject({
    type: z.literal('ntlm'),
    user: z.string().min(1),
    password: z.string(),
    domain: z.string().optional(),
  }),
  z.strictObject({
    type: z.literal('certificate'),
    certPath: z.string().min(1),
    keyPath: z.string().min(1),
  }),
]);

const Options = z.strictObject({
  auth: Auth,
  https: z.boolean().default(false),
  caPath: z.string().min(1).optional(),
  rejectUnauthorized: z.boolean().default(true),
  operationTimeoutSeconds: z.number().int().min(1).max(3600).default(20),
  /** Windows' default MaxEnvelopeSizekb is 500 on current versions, 150 on older ones. */
  maxEnvelopeBytes: z
    .number()
    .int()
    .min(8 * 1024)
    .default(150 * 1024),
  shellTtlMs: z.number().int().min(0).default(60_000),
  maxCommandsPerShell: z.number().int().min(1).default(20),
  maxShellsPerDevice: z.number().int().min(1).default(2),
  connectTimeoutMs: z.number().int().min(1).default(10_000),
  cleanupTimeoutMs: z.number().int().min(1).default(10_000),
  maxCleanupRequests: z.number().int().min(1).default(64),
  maxCleanupBacklog: z.number().int().min(1).default(1024),
  logger: z.custom<Logger>().optional(),
});

export interface WsmanTransportOptions {
  auth:
    | { type: 'basic'; user: string; password: string }
    | { type: 'ntlm'; user: string; password: string; domain?: string }
    | { type: 'certificate'; certPath: string; keyPath: string };
  /** HTTPS (port 5986 usually); default false. */
  https?: boolean;
  /** PEM CA bundle to trust instead of the system store. */
  caPath?: string;
  /** Verify the device's certificate; default true. */
  rejectUnauthorized?: boolean;
  /** WS-Man OperationTimeout of each request, default 20 s; the HTTP read timeout is 10 s longer. */
  operationTimeoutSeconds?: number;
  /** MaxEnvelopeSize sent with requests and the limit for Send chunks; default 150 KiB. */
  maxEnvelopeBytes?: number;
  /** An idle shell older than this is replaced; default 60 s. */
  shellTtlMs?: number;
  /** Commands after which a shell is replaced; default 20. */
  maxCommandsPerShell?: number;
  /** Shells open at once per device; default 2. */
  maxShellsPerDevice?: number;
  /** TCP connect timeout; default 10 s. */
  connectTimeoutMs?: number;
  /** Budget for each clean-up request (Signal, Delete); default 10 s. */
  cleanupTimeoutMs?: number;
  /**
   * Clean-up requests (the Signal terminate after Done, shell Deletes) in flight at once across
   * every device; they run in the background, one at a time per device. Default 64.
   */
  maxCleanupRequests?: number;
  /** Clean-up requests queued past which finished runs wait before returning; default 1,024. */
  maxCleanupBacklog?: number;
  logger?: Logger;
}

interface DeviceSession {
  http: WsmanHttpClient;
  pool: ShellPool;
  client: WinrsClient;
}

/**
 * A `Transport` that runs PowerShell over WS-Management (WinRS) itself: one keep-alive HTTP
 * client and one shell pool per device, shells kept for reuse across runs and batches within
 * `shellTtlMs`. A run returns when its command is Done; the clean-up after it runs in a bounded
 * background queue that `close` waits for. Throws `WsmanError`s (see `errors.ts`).
 */
export function createWsmanTransport(input: WsmanTransportOptions): Transport {
  const options = Options.parse(input);
  const auth = loadAuth(options.auth);
  const sessions = new Map<string, DeviceSession>();
  const cleanup = new CleanupQueue({
    maxRunning: options.maxCleanupRequests,
    maxPending: options.maxCleanupBacklog,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  // Idle shells past their TTL are deleted even when their device is not run again.
  const staleSweep = setInterval(
    () => {
      for (const session of sessions.values()) session.pool.dropStale();
    },
    Math.max(1000, options.shellTtlMs / 2),
  );
  staleSweep.unref();

  const sessionFor = (device: DeviceTarget): DeviceSession => {
    const key = `${device.address}:${device.port}`;
    let session = sessions.get(key);
    if (!session) {
      session = openSession(device, key, options, { auth, cleanup });
      sessions.set(key, session);
    }
    return session;
  };

  return {
    run(device: DeviceTarget, script: string, runOptions: RunOptions): Promise<CommandOutcome> {
      const session = sessionFor(device);
      const logger = options.logger?.child({ deviceId: device.deviceId });
      return runScript(
        {
          client: session.client,
          pool: session.pool,
          cleanup,
          cleanupTimeoutMs: options.cleanupTimeoutMs,
          logger,
        },
        script,
        runOptions,
      );
    },
    async close(): Promise<void> {
      clearInterval(staleSweep);
      const all = [...sessions.values()];
      sessions.clear();
      await Promise.all(all.map((s) => s.pool.close()));
      await cleanup.drain();
      if (cleanup.failures > 0) {
        options.logger?.warn({ failures: cleanup.failures }, 'wsman clean-up failures');
      }
      for (const s of all) s.http.close();
    },
  };
}

type ParsedOptions = z.infer<typeof Options>;

function openSession(
  device: DeviceTarget,
  key: string,
  options: ParsedOptions,
  shared: { auth: WsmanAuth; cleanup: CleanupQueue },
): DeviceSession {
  const { auth, cleanup } = shared;
  const http = new WsmanHttpClient({
    host: device.address,
    port: device.port,
    https: options.https,
    auth,
    ...(options.caPath ? { ca: readFileSync(options.caPath) } : {}),
    rejectUnauthorized: options.rejectUnauthorized,
    connectTimeoutMs: options.connectTimeoutMs,
    // Longer than OperationTimeout: an idle Receive is answered with w:TimedOut, not silence.
    readTimeoutMs: options.operationTimeoutSeconds * 1000 + 10_000,
    deviceId: device.deviceId,
  });
  const envelopeContext = {
    url: http.url,
    maxEnvelopeBytes: options.maxEnvelopeBytes,
    operationTimeoutSeconds: options.operationTimeoutSeconds,
  };
  const logger = options.logger?.child({ deviceId: device.deviceId });
  const client = new WinrsClient(http, envelopeContext, logger, device.deviceId);
  const pool = new ShellPool(
    client,
    {
      shellTtlMs: options.shellTtlMs,
      maxCommandsPerShell: options.maxCommandsPerShell,
      maxShells: options.maxShellsPerDevice,
      cleanupTimeoutMs: options.cleanupTimeoutMs,
      cleanup,
      deviceKey: key,
    },
    logger,
  );
  return { http, pool, client };
}

function loadAuth(auth: ParsedOptions['auth']): WsmanAuth {
  if (auth.type !== 'certificate') return auth;
  return {
    type: 'certificate',
    cert: readFileSync(auth.certPath),
    key: readFileSync(auth.keyPath),
  };
}
