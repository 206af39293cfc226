import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientFrom } from './api-options.ts';

describe('clientFrom', () => {
  const seen: IncomingHttpHeaders[] = [];
  const paths: string[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    paths.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"items":[]}');
  });
  let url: string;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prod`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('signs with credentials from the AWS default chain when --aws is given', async () => {
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIDCHAINTEST',
      AWS_SECRET_ACCESS_KEY: 'secret-from-the-environment',
      AWS_SESSION_TOKEN: 'token-from-the-environment',
      WINFLEET_CONFIG: '/nonexistent/winfleet.json',
    });
    const api = await clientFrom({ aws: true, apiUrl: url, region: 'eu-west-1', json: true });

    await api.sites();

    const headers = seen.at(-1) ?? {};
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDCHAINTEST\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
    expect(headers['x-amz-security-token']).toBe('token-from-the-environment');
  });

  it('sends the bearer token otherwise, keeping the stage in the base path', async () => {
    const api = await clientFrom({ apiUrl: url, token: 'local-token' });

    await api.sites();

    expect(seen.at(-1)?.authorization).toBe('Bearer local-token');
    expect(paths.at(-1)).toBe('/prod/sites');
  });
});
