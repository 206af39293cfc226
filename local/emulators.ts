import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { buildApp } from 'fauxqs';

/** A running emulator: where it listens and how to stop it. */
export interface Emulator {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

const LOOPBACK = '127.0.0.1';

/**
 * Starts dynalite (DynamoDB's wire protocol) on loopback. With `path` the tables live on disk
 * (LevelDB) and survive a restart; without it they live in memory.
 */
export async function startDynamoDb(options: { path?: string; port?: number } = {}) {
  const server = dynalite({
    path: options.path,
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  const port = await listen(server, options.port ?? 0);
  return emulator(port, () => closeServer(server));
}

/**
 * Starts fauxqs (SQS's wire protocol) on loopback. fauxqs's own `startFauxqs` listens on every
 * interface, so the app is built and bound here instead.
 */
export async function startSqs(options: { port?: number } = {}): Promise<Emulator> {
  const app = buildApp({ logger: false, host: 'localhost' });
  await app.listen({ host: LOOPBACK, port: options.port ?? 0 });
  const port = (app.server.address() as AddressInfo).port;
  return emulator(port, () => app.close());
}

function emulator(port: number, stop: () => Promise<void>): Emulator {
  return { endpoint: `http://${LOOPBACK}:${port}`, port, stop };
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK, () => resolve((server.address() as AddressInfo).port));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
}
