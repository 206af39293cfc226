import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../shared/logger.ts';
import type { ConnectorHealth } from './health.ts';

export interface HealthServer {
  /** Like `http://127.0.0.1:9464`. */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `GET /health` (JSON; 200 while starting or running, 503 once draining) and
 * `GET /metrics` (Prometheus text format) on a local port. Anything else is 404 or 405.
 */
export async function startHealthServer(options: {
  health: ConnectorHealth;
  host: string;
  port: number;
  logger: Logger;
}): Promise<HealthServer> {
  const { health, host, logger } = options;
  const server = createServer((req, res) => {
    respond(health, req, res).catch((error: unknown) => {
      logger.warn({ err: error, url: req.url }, 'health request failed');
      if (!res.headersSent) send(res, 500, 'text/plain', 'internal error\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  logger.info({ host, port }, 'health endpoint listening');
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function respond(health: ConnectorHealth, req: IncomingMessage, res: ServerResponse) {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (path !== '/health' && path !== '/metrics') return send(res, 404, 'text/plain', 'not found\n');
  if (req.method !== 'GET') return send(res, 405, 'text/plain', 'method not allowed\n');
  if (path === '/metrics') {
    const { registry } = health;
    return send(res, 200, registry.contentType, await registry.metrics());
  }
  const report = health.report();
  const ok = report.state === 'starting' || report.state === 'running';
  send(res, ok ? 200 : 503, 'application/json', `${JSON.stringify(report)}\n`);
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}
