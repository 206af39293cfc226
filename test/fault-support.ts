import { mkdtempSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { type ConnectorConfig, resolveConnectorConfig } from '../connector/config.ts';
import { ConnectorService } from '../connector/service.ts';
import { createTransport } from '../connector/transports.ts';
import type { Logger } from '../shared/logger.ts';
import type { Fleet } from '../sim/index.ts';

/**
 * A TCP proxy in front of an emulator that a test can cut and restore on the same port: a
 * cut refuses new connections and resets open ones, as a site whose WAN link dropped sees it,
 * while the emulator behind it keeps its state (SQS keeps its messages through an outage).
 */
export interface CuttableProxy {
  endpoint: string;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startProxy(target: { port: number }): Promise<CuttableProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const s = createServer((client) => pipe(client, target.port, sockets));
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        server = s;
        const address = s.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  const port = await listen(0);
  const cut = async () => {
    const s = server;
    server = undefined;
    for (const socket of sockets) socket.resetAndDestroy();
    sockets.clear();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    cut,
    restore: async () => {
      if (!server) await listen(port);
    },
    close: cut,
  };
}

function pipe(client: Socket, targetPort: number, sockets: Set<Socket>): void {
  const upstream = connect(targetPort, '127.0.0.1');
  for (const socket of [client, upstream]) {
    sockets.add(socket);
    socket.on('error', () => {
      client.destroy();
      upstream.destroy();
    });
    socket.on('close', () => sockets.delete(socket));
  }
  client.pipe(upstream).pipe(client);
}

/** Builds an in-process connector for `siteId` against the given cloud endpoints. */
export function connectorFor(options: {
  siteId: string;
  dir: string;
  prefix: string;
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  queueUrl: string;
  credentials: { user: string; password: string };
  logger: Logger;
  settings?: Partial<ConnectorConfig>;
  outboxRetryBaseMs?: number;
  visibilityTimeoutSeconds?: number;
}): { service: ConnectorService; config: ConnectorConfig } {
  const config = resolveConnectorConfig(
    {
      siteId: options.siteId,
      dataDir: path.join(options.dir, options.siteId),
      prefix: options.prefix,
      dynamodbEndpoint: options.dynamodbEndpoint,
      sqsEndpoint: options.sqsEndpoint,
      queueUrl: options.queueUrl,
      transport: { type: 'wsman', auth: { type: 'basic', user: options.credentials.user } },
      ...options.settings,
    },
    path.join(options.dir, `${options.siteId}.json`),
    { WINFLEET_WINRM_PASSWORD: options.credentials.password },
  );
  const service = new ConnectorService({
    config,
    transport: createTransport(config.transport, options.logger),
    logger: options.logger,
    waitTimeSeconds: 1,
    outboxRetryBaseMs: options.outboxRetryBaseMs,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
  });
  return { service, config };
}

export function tempDir(name: string): string {
  return mkdtempSync(path.join(tmpdir(), `winfleet-${name}-`));
}

const ArchiveRow = z.object({
  device_id: z.string(),
  status: z.string(),
  finished_at: z.string(),
  delivered_at: z.string().nullable(),
});
export type ArchiveRow = z.infer<typeof ArchiveRow>;

/** An operation's rows in a connector's archive, read with a second (read-only) connection. */
export function archivedRows(file: string, operationId: string): ArchiveRow[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare(
        `SELECT device_id, status, finished_at, delivered_at FROM results
         WHERE operation_id = ? ORDER BY device_id`,
      )
      .all(operationId);
    return z.array(ArchiveRow).parse(rows);
  } finally {
    db.close();
  }
}

/** Each device's command start times, recorded from the simulated fleet's own counters. */
export function recordCommandStarts(fleet: Fleet): Map<string, number[]> {
  const starts = new Map<string, number[]>();
  const stats = fleet.stats as Fleet['stats'] & { commandStarted(name: string): void };
  const original = stats.commandStarted.bind(stats);
  stats.commandStarted = (computerName: string) => {
    const list = starts.get(computerName) ?? [];
    list.push(Date.now());
    starts.set(computerName, list);
    original(computerName);
  };
  return starts;
}

/** Polls `check` every `intervalMs` until it returns true; throws after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}
