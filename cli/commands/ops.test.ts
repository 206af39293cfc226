import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerOpsCommand } from './ops.ts';

describe('winfleet ops list', () => {
  const queries: URLSearchParams[] = [];
  // Answers like the API: 400 for a query parameter the route does not take.
  const server = createServer((req, res) => {
    const query = new URL(req.url ?? '', 'http://x').searchParams;
    queries.push(query);
    const unknown = [...query.keys()].filter((key) => key !== 'limit' && key !== 'cursor');
    if (unknown.length > 0) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'ValidationFailed', message: unknown.join() } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"items":[]}');
  });
  let url: string;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function run(...args: string[]): Promise<string> {
    const program = new Command().exitOverride();
    registerOpsCommand(program);
    const written: string[] = [];
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await program.parseAsync(['ops', 'list', '--api-url', url, '--token', 't', ...args], {
        from: 'user',
      });
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    return written.join('');
  }

  it('prints the page as JSON and sends only limit and cursor to the API', async () => {
    process.exitCode = undefined;

    const printed = await run('--json', '--limit', '5');

    expect(process.exitCode).toBeUndefined();
    expect(JSON.parse(printed)).toEqual({ items: [] });
    expect(Object.fromEntries(queries.at(-1) ?? [])).toEqual({ limit: '5' });
  });
});
