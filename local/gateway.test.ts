import { connect } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../shared/logger.ts';
import { type Gateway, type LambdaHandler, startGateway } from './gateway.ts';

const TOKEN = 'test-token-0123456789';

describe('local gateway', () => {
  let gateway: Gateway;
  const loaded: string[] = [];

  beforeAll(async () => {
    // Each route's handler echoes the event it was given, so the event itself can be checked.
    const loadHandler = async (name: string): Promise<LambdaHandler> => {
      loaded.push(name);
      if (name === 'sites-list') {
        return async () => {
          throw new Error('handler fault with a secret inside');
        };
      }
      return async (event) => ({
        statusCode: 200,
        headers: { 'x-handler': name },
        body: JSON.stringify(event),
      });
    };
    gateway = await startGateway({
      token: TOKEN,
      logger: createLogger('test', { level: 'silent' }),
      maxBodyBytes: 1024,
      loadHandler,
    });
  });
  afterAll(() => gateway.close());

  const call = (path: string, init: RequestInit & { auth?: string | null } = {}) => {
    const headers = new Headers(init.headers);
    if (init.auth !== null) headers.set('authorization', init.auth ?? `Bearer ${TOKEN}`);
    return fetch(`${gateway.url}${path}`, { ...init, headers });
  };

  it('listens on loopback', () => {
    expect(gateway.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('answers GET /health without a token', async () => {
    const response = await call('/health', { auth: null });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it.each([
    ['no Authorization header', null],
    ['a wrong token', 'Bearer wrong-token'],
    ['another scheme', `Basic ${TOKEN}`],
  ])('returns 401 with %s', async (_name, auth) => {
    const response = await call('/sites', { auth });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      error: { code: 'Unauthorized', message: expect.any(String) },
    });
  });

  it.each([
    ['an unknown route', '/nothing/here', 'GET', null],
    ['an unknown route with a wrong token', '/nothing/here', 'GET', 'Bearer wrong-token'],
    ['a known path with the wrong method', '/operations/op-0123456789', 'DELETE', null],
    ['a known route', '/operations', 'POST', null],
  ])('returns 401 before matching routes for %s', async (_name, path, method, auth) => {
    const response = await call(path, { method, auth });

    expect(response.status).toBe(401);
    expect(response.headers.get('allow')).toBeNull();
    expect(await response.json()).toMatchObject({ error: { code: 'Unauthorized' } });
  });

  it('returns 431 JSON for a URL over the header limit', async () => {
    const response = await call(`/devices?siteId=${'a'.repeat(20_000)}`);

    expect(response.status).toBe(431);
    expect(await response.json()).toEqual({
      error: { code: 'RequestHeaderFieldsTooLarge', message: expect.any(String) },
    });
  });

  it('returns 400 JSON for a request that is not HTTP', async () => {
    const { hostname, port } = new URL(gateway.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
      const chunks: Buffer[] = [];
      socket.on('data', (chunk) => chunks.push(chunk));
      socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      socket.on('error', reject);
    });

    const [head = '', body = ''] = raw.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(body)).toMatchObject({ error: { code: 'BadRequest' } });
  });

  it('returns 404 JSON for an unknown route', async () => {
    const response = await call('/nothing/here');
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: 'NotFound' } });
  });

  it('returns 405 with Allow for a known path and the wrong method', async () => {
    const response = await call('/operations/op-0123456789', { method: 'DELETE' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
    expect(await response.json()).toMatchObject({ error: { code: 'MethodNotAllowed' } });
  });

  it('returns 413 for a body over the limit', async () => {
    const response = await call('/operations', { method: 'POST', body: 'x'.repeat(2048) });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { code: 'PayloadTooLarge' } });
  });

  it('builds a payload v2 event from the request', async () => {
    const response = await call('/operations/op-abc%2Fdef/results?status=Failed&x=1&x=2', {
      headers: { 'X-Custom': 'Value', 'User-Agent': 'gateway-test' },
    });
    const event = (await response.json()) as APIGatewayProxyEventV2;

    expect(response.headers.get('x-handler')).toBe('operations-results');
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'GET /operations/{id}/results',
      rawPath: '/operations/op-abc%2Fdef/results',
      rawQueryString: 'status=Failed&x=1&x=2',
      queryStringParameters: { status: 'Failed', x: '1,2' },
      pathParameters: { id: 'op-abc/def' },
      isBase64Encoded: false,
      requestContext: {
        routeKey: 'GET /operations/{id}/results',
        stage: '$default',
        http: {
          method: 'GET',
          path: '/operations/op-abc%2Fdef/results',
          userAgent: 'gateway-test',
        },
      },
    });
    expect(event.headers['x-custom']).toBe('Value');
    expect(event.body).toBeUndefined();
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.requestContext.time).toMatch(
      /^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/,
    );
  });

  it('passes the body as a string', async () => {
    const response = await call('/operations', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    const event = (await response.json()) as APIGatewayProxyEventV2;
    expect(event.body).toBe('{"a":1}');
    expect(event.routeKey).toBe('POST /operations');
    expect(event.queryStringParameters).toBeUndefined();
  });

  it('answers 500 without the error text when a handler throws', async () => {
    const response = await call('/sites');
    const text = await response.text();
    expect(response.status).toBe(500);
    expect(text).not.toContain('secret');
    expect(JSON.parse(text)).toMatchObject({ error: { code: 'InternalError' } });
  });
});
