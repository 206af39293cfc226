import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import type { Logger } from '../shared/logger.ts';
import { ROUTES, type RouteDefinition } from '../shared/routes.ts';
import { lambdaContext } from './lambda-context.ts';

export interface GatewayOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  /** Every route but `GET /health` requires `Authorization: Bearer <token>`. */
  token: string;
  logger: Logger;
  /** Largest request body accepted, in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Loads a route's handler by name. Default: `functions/handlers/<name>.ts`'s `handler`. */
  loadHandler?: (name: string) => Promise<LambdaHandler>;
}

export interface Gateway {
  /** The base URL, like `http://127.0.0.1:4321`. */
  url: string;
  close(): Promise<void>;
}

export type LambdaHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;

interface CompiledRoute {
  route: RouteDefinition;
  pattern: RegExp;
  paramNames: string[];
}

interface MatchedRoute {
  route: RouteDefinition;
  pathParameters: Record<string, string>;
}

/** A request the gateway refuses itself, before any handler runs. */
class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/**
 * The local stand-in for API Gateway's HTTP API: matches requests against `shared/routes.ts`,
 * builds payload-v2 events and invokes `functions/handlers/<handler>.ts` in this process.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const routes = ROUTES.map(compileRoute);
  const handlers = new Map<string, Promise<LambdaHandler>>();
  const server = createServer((req, res) => {
    void serve(req, res, { options, routes, handlers });
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    answerClientError(error, socket, options.logger);
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  options.logger.info({ host, port }, 'gateway listening');
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return { url: `http://${host}:${port}`, close };
}

interface ServeScope {
  options: GatewayOptions;
  routes: CompiledRoute[];
  handlers: Map<string, Promise<LambdaHandler>>;
}

async function serve(req: IncomingMessage, res: ServerResponse, scope: ServeScope) {
  const { logger } = scope.options;
  const url = new URL(req.url ?? '/', 'http://gateway.local');
  const method = req.method ?? 'GET';
  try {
    if (method === 'GET' && url.pathname === '/health') {
      return send(res, { statusCode: 200, body: JSON.stringify({ status: 'ok' }) });
    }
    // Before route matching: without a token, every path answers alike (no route probing).
    checkAuthorization(req.headers.authorization, scope.options.token);
    const matched = matchRoute(scope.routes, method, url.pathname);
    const body = await readBody(req, scope.options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
    const event = buildEvent(req, url, matched, body);
    const handler = await loadHandler(
      scope.handlers,
      matched.route.handler,
      scope.options.loadHandler,
    );
    const result = await handler(event, lambdaContext(`winfleet-${matched.route.handler}`));
    send(res, toResult(result));
    logger.debug({ method, path: url.pathname, routeKey: event.routeKey }, 'request served');
  } catch (error) {
    if (error instanceof GatewayError) return sendError(res, error);
    logger.error({ err: error, method, path: url.pathname }, 'handler failed');
    sendError(res, new GatewayError(500, 'InternalError', 'the handler failed'));
  }
}

/** Node's parser errors that have an answer of their own; any other is a 400. */
const CLIENT_ERRORS: Record<string, { statusCode: number; code: string; message: string }> = {
  HPE_HEADER_OVERFLOW: {
    statusCode: 431,
    code: 'RequestHeaderFieldsTooLarge',
    message: 'the request line and headers exceed the server limit; shorten the URL or headers',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    statusCode: 408,
    code: 'RequestTimeout',
    message: 'the request did not arrive in time',
  },
};

/**
 * Answers a request Node could not parse (so no handler sees it) with the JSON error shape,
 * where the socket can still be written to, and closes the connection.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket, logger: Logger): void {
  logger.debug({ err: error, code: error.code }, 'client error');
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const known = CLIENT_ERRORS[error.code ?? ''];
  const { statusCode, code, message } = known ?? {
    statusCode: 400,
    code: 'BadRequest',
    message: 'the request is not valid HTTP/1.1',
  };
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode]}\r\n` +
      'content-type: application/json\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      'connection: close\r\n\r\n' +
      body,
  );
}

function compileRoute(route: RouteDefinition): CompiledRoute {
  const paramNames: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      const param = /^\{([A-Za-z0-9_]+)\}$/.exec(segment);
      if (!param?.[1]) return segment.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
      paramNames.push(param[1]);
      return '([^/]+)';
    })
    .join('/');
  return { route, pattern: new RegExp(`^${source}/?$`), paramNames };
}

/** The route for a request: 404 when no path matches, 405 when the path has other methods. */
function matchRoute(routes: CompiledRoute[], method: string, path: string): MatchedRoute {
  const allowed: string[] = [];
  for (const { route, pattern, paramNames } of routes) {
    const match = pattern.exec(path);
    if (!match) continue;
    if (route.method !== method) {
      allowed.push(route.method);
      continue;
    }
    const pathParameters: Record<string, string> = {};
    paramNames.forEach((name, i) => {
      pathParameters[name] = decodeSegment(match[i + 1] ?? '');
    });
    return { route, pathParameters };
  }
  if (allowed.length > 0) {
    throw new GatewayError(405, 'MethodNotAllowed', `${method} is not allowed on ${path}`, {
      allow: allowed.join(', '),
    });
  }
  throw new GatewayError(404, 'NotFound', `no route for ${method} ${path}`);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new GatewayError(400, 'BadRequest', 'the path is not valid percent-encoding');
  }
}

function checkAuthorization(header: string | undefined, token: string): void {
  const presented = /^Bearer (.+)$/i.exec(header ?? '')?.[1]?.trim() ?? '';
  const a = Buffer.from(presented);
  const b = Buffer.from(token);
  if (a.length === b.length && timingSafeEqual(a, b)) return;
  throw new GatewayError(401, 'Unauthorized', 'a valid Authorization: Bearer token is required', {
    'www-authenticate': 'Bearer',
  });
}

async function readBody(req: IncomingMessage, maxBodyBytes: number): Promise<string | undefined> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBodyBytes) throw tooLarge(maxBodyBytes);
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    bytes += buffer.length;
    if (bytes > maxBodyBytes) throw tooLarge(maxBodyBytes);
    chunks.push(buffer);
  }
  return bytes === 0 ? undefined : Buffer.concat(chunks).toString('utf8');
}

function tooLarge(maxBodyBytes: number): GatewayError {
  return new GatewayError(413, 'PayloadTooLarge', `the body exceeds ${maxBodyBytes} bytes`, {
    connection: 'close',
  });
}

async function loadHandler(
  cache: Map<string, Promise<LambdaHandler>>,
  name: string,
  load: GatewayOptions['loadHandler'],
): Promise<LambdaHandler> {
  let handler = cache.get(name);
  if (!handler) {
    handler = (load ?? importHandler)(name);
    handler.catch(() => cache.delete(name));
    cache.set(name, handler);
  }
  return handler;
}

async function importHandler(name: string): Promise<LambdaHandler> {
  const module: unknown = await import(`../functions/handlers/${name}.ts`);
  const handler = (module as { handler?: unknown }).handler;
  if (typeof handler !== 'function') {
    throw new Error(`functions/handlers/${name}.ts exports no handler function`);
  }
  return handler as LambdaHandler;
}

/** A payload-v2 event as API Gateway's HTTP API builds it. */
function buildEvent(
  req: IncomingMessage,
  url: URL,
  matched: MatchedRoute,
  body: string | undefined,
): APIGatewayProxyEventV2 {
  const { headers, cookies } = eventHeaders(req);
  const routeKey = `${matched.route.method} ${matched.route.path}`;
  const now = new Date();
  const rawQueryString = url.search.slice(1);
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString,
    cookies,
    headers,
    queryStringParameters: rawQueryString ? queryParameters(url.searchParams) : undefined,
    pathParameters: Object.keys(matched.pathParameters).length ? matched.pathParameters : undefined,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: (headers.host ?? 'localhost').split('.')[0] ?? 'localhost',
      http: {
        method: matched.route.method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: apiGatewayTime(now),
      timeEpoch: now.getTime(),
    },
  };
}

/** Header names lower-cased, repeated values joined by commas, cookies split out (as v2 does). */
function eventHeaders(req: IncomingMessage) {
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(req.headersDistinct)) {
    if (!value) continue;
    if (name === 'cookie') cookies = value.flatMap((v) => v.split(';').map((c) => c.trim()));
    else headers[name] = value.join(',');
  }
  return { headers, cookies };
}

/** Repeated query keys joined by commas, as API Gateway's payload v2 does. */
function queryParameters(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of new Set(params.keys())) out[key] = params.getAll(key).join(',');
  return out;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** API Gateway's `requestContext.time` format: `03/Dec/2026:15:59:34 +0000`. */
function apiGatewayTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const day = `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}`;
  const time = `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  return `${day}:${time} +0000`;
}

/**
 * The handler's answer as API Gateway reads it: a structured result when it has a
 * `statusCode`, otherwise any value is sent as a 200 JSON body.
 */
function toResult(result: unknown): APIGatewayProxyStructuredResultV2 {
  if (typeof result === 'object' && result !== null && 'statusCode' in result) {
    return result as APIGatewayProxyStructuredResultV2;
  }
  const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body };
}

function send(res: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  const headers: Record<string, string | string[]> = {
    'content-type': 'application/json',
  };
  for (const [name, value] of Object.entries(result.headers ?? {})) {
    headers[name.toLowerCase()] = String(value);
  }
  if (result.cookies?.length) headers['set-cookie'] = result.cookies;
  const body = result.isBase64Encoded
    ? Buffer.from(result.body ?? '', 'base64')
    : Buffer.from(result.body ?? '', 'utf8');
  res.writeHead(result.statusCode ?? 200, { ...headers, 'content-length': String(body.length) });
  res.end(body);
}

function sendError(res: ServerResponse, error: GatewayError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  send(res, {
    statusCode: error.statusCode,
    headers: error.headers,
    body: JSON.stringify({ error: { code: error.code, message: error.message } }),
  });
}
