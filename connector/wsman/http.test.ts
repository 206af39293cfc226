import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { IDLE_SOCKET_MS, WsmanHttpClient } from './http.ts';

describe('WsmanHttpClient connections', () => {
  let server: Server | undefined;

  afterEach(
    () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
  );

  it(
    'closes a kept-alive connection that sits idle, and reuses it while it is busy',
    async () => {
      const sockets: Socket[] = [];
      server = createServer((_req, res) => res.end('<ok/>'));
      // The server would close an idle connection itself after 5 s: keep it open much longer so
      // that only the client's idle timeout can close it.
      server.keepAliveTimeout = 120_000;
      server.on('connection', (socket) => sockets.push(socket));
      await new Promise<void>((resolve) => server?.listen(0, '127.15.4.1', resolve));
      const { port } = server.address() as AddressInfo;
      const client = new WsmanHttpClient({
        host: '127.15.4.1',
        port,
        https: false,
        auth: { type: 'basic', user: 'u', password: 'p' },
        rejectUnauthorized: true,
        connectTimeoutMs: 5_000,
        readTimeoutMs: 30_000,
      });

      await client.post('<a/>');
      await client.post('<b/>');
      expect(sockets).toHaveLength(1);

      const closed = new Promise<void>((resolve) => sockets[0]?.once('close', () => resolve()));
      await closed;
      expect(sockets[0]?.destroyed).toBe(true);
    },
    IDLE_SOCKET_MS + 10_000,
  );
});
