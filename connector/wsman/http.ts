import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import {
  WsmanAuthError,
  type WsmanError,
  type WsmanErrorContext,
  WsmanProtocolError,
  WsmanTimeoutError,
  WsmanTlsError,
  WsmanUnreachableError,
} from './errors.ts';
import { authenticateToken, NTLM_SCHEME, negotiateToken } from './ntlm.ts';

/** How long a kept-alive connection may sit idle before it is closed. */
export const IDLE_SOCKET_MS = 5_000;
export type WsmanAuth =
  | { type: 'basic'; user: string; password: string }
  | { type: 'ntlm'; user: string; password: string; domain?: string }
  | { type: 'certificate'; cert: Buffer; key: Buffer };

export interface HttpClientOptions {
  host: string;
  port: number;
  https: boolean;
  auth: WsmanAuth;
  /** PEM CA bundle that replaces the system's trust store. */
  ca?: Buffer;
  rejectUnauthorized: boolean;
  connectTimeoutMs: number;
  /** Longest silence while waiting for an answer; longer than the WS-Man OperationTimeout. */
  readTimeoutMs: number;
  deviceId?: string;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const CONTENT_TYPE = 'application/soap+xml;charset=UTF-8';
/** The header Windows expects for client-certificate authentication over HTTPS. */
const CERT_AUTH_HEADER = 'http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual';
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTDOWN',
]);

/** One keep-alive connection lane; NTLM authenticates a connection, so it keeps one socket. */
interface Lane {
  agent: http.Agent;
  authenticated: boolean;
}

/**
 * HTTP(S) to one device's `/wsman`: keep-alive connections, Basic, NTLM or client-certificate
 * authentication, and network failures turned into `WsmanError`s. Status codes other than 401
 * are returned to the caller, which reads faults from the body.
 */
export class WsmanHttpClient {
  readonly url: string;
  readonly #options: HttpClientOptions;
  readonly #shared: http.Agent;
  readonly #idleLanes: Lane[] = [];
  readonly #allLanes = new Set<Lane>();

  constructor(options: HttpClientOptions) {
    this.#options = options;
    this.url = `${options.https ? 'https' : 'http'}://${formatHost(options.host)}:${options.port}/wsman`;
    this.#shared = this.#newAgent(8);
  }

  get #ctx(): WsmanErrorContext {
    return {
      endpoint: `${this.#options.host}:${this.#options.port}`,
      deviceId: this.#options.deviceId,
    };
  }

  /** Posts one envelope. Throws on network, TLS, timeout and 401 failures. */
  async post(xml: string, signal?: AbortSignal): Promise<HttpResponse> {
    const body = Buffer.from(xml, 'utf8');
    const auth = this.#options.auth;
    if (auth.type === 'ntlm') return this.#postNtlm(auth, body, signal);
    const authorization =
      auth.type === 'basic'
        ? `Basic ${Buffer.from(`${auth.user}:${auth.password}`, 'utf8').toString('base64')}`
        : CERT_AUTH_HEADER;
    const response = await this.#send(this.#shared, body, authorization, signal);
    if (response.status === 401) throw this.#authError(auth.type, response);
    return response;
  }

  /** Ends every connection. */
  close(): void {
    this.#shared.destroy();
    for (const lane of this.#allLanes) lane.agent.destroy();
    this.#allLanes.clear();
    this.#idleLanes.length = 0;
  }

  async #postNtlm(
    auth: Extract<WsmanAuth, { type: 'ntlm' }>,
    body: Buffer,
    signal: AbortSignal | undefined,
  ): Promise<HttpResponse> {
    const lane = this.#idleLanes.pop() ?? this.#newLane();
    try {
      if (lane.authenticated) {
        const response = await this.#send(lane.agent, body, undefined, signal);
        if (response.status !== 401) return response;
        lane.authenticated = false;
      }
      const response = await this.#ntlmHandshake(lane, auth, body, signal);
      lane.authenticated = true;
      return response;
    } finally {
      this.#idleLanes.push(lane);
    }
  }

  /**
   * Negotiate with an empty body, then authenticate with the real one on the same socket (the
   * lane's agent holds one socket). The authenticated connection carries later requests.
   */
  async #ntlmHandshake(
    lane: Lane,
    auth: Extract<WsmanAuth, { type: 'ntlm' }>,
    body: Buffer,
    signal: AbortSignal | undefined,
  ): Promise<HttpResponse> {
    const negotiate = `${NTLM_SCHEME} ${negotiateToken()}`;
    const challenge = await this.#send(lane.agent, Buffer.alloc(0), negotiate, signal);
    if (challenge.status !== 401) {
      throw new WsmanProtocolError(`expected 401 with an NTLM challenge, got ${challenge.status}`, {
        ...this.#ctx,
        httpStatus: challenge.status,
      });
    }
    let token: string;
    try {
      token = authenticateToken(challenge.headers['www-authenticate'], auth);
    } catch (error) {
      throw new WsmanAuthError(
        'ntlm',
        `NTLM refused by ${this.#ctx.endpoint}: no challenge (is Negotiate enabled?)`,
        { ...this.#ctx, cause: error },
      );
    }
    const response = await this.#send(lane.agent, body, `${NTLM_SCHEME} ${token}`, signal);
    if (response.status === 401) throw this.#authError('ntlm', response);
    return response;
  }

  #newLane(): Lane {
    const lane = { agent: this.#newAgent(1), authenticated: false };
    this.#allLanes.add(lane);
    return lane;
  }

  #newAgent(maxSockets: number): http.Agent {
    const o = this.#options;
    // An idle kept-alive connection is closed after IDLE_SOCKET_MS: a site of thousands of
    // devices would otherwise hold one socket per device (and the host one per client) long
    // after its command. Each request sets its own read timeout, so this only ends idle
    // sockets. NTLM authenticates a connection, not a request, so its connections are kept.
    const idle = o.auth.type === 'ntlm' ? {} : { timeout: IDLE_SOCKET_MS };
    if (!o.https) return new http.Agent({ keepAlive: true, maxSockets, ...idle });
    const cert = o.auth.type === 'certificate' ? { cert: o.auth.cert, key: o.auth.key } : {};
    return new https.Agent({
      keepAlive: true,
      maxSockets,
      ...idle,
      rejectUnauthorized: o.rejectUnauthorized,
      ...(o.ca ? { ca: o.ca } : {}),
      ...cert,
    });
  }

  #authError(authType: string, response: HttpResponse): WsmanAuthError {
    const offered = String(response.headers['www-authenticate'] ?? 'none');
    return new WsmanAuthError(
      authType,
      `${this.#ctx.endpoint} refused ${authType} authentication (401; methods offered: ${offered})`,
      this.#ctx,
    );
  }

  /** One request; a keep-alive socket the server closed meanwhile is retried once. */
  async #send(
    agent: http.Agent,
    body: Buffer,
    authorization: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<HttpResponse> {
    try {
      return await this.#sendOnce(agent, body, authorization, signal);
    } catch (error) {
      if (!(error instanceof StaleSocketError)) throw error;
      return this.#sendOnce(agent, body, authorization, signal).catch((retryError: unknown) => {
        throw retryError instanceof StaleSocketError ? retryError.wrapped : retryError;
      });
    }
  }

  #sendOnce(
    agent: http.Agent,
    body: Buffer,
    authorization: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<HttpResponse> {
    const o = this.#options;
    const headers: http.OutgoingHttpHeaders = {
      'content-type': CONTENT_TYPE,
      'content-length': body.length,
      'user-agent': 'winfleet',
      ...(authorization ? { authorization } : {}),
    };
    const request = (o.https ? https.request : http.request)({
      host: o.host,
      port: o.port,
      path: '/wsman',
      method: 'POST',
      agent,
      headers,
      signal,
    });
    return new Promise<HttpResponse>((resolve, reject) => {
      let connectTimer: NodeJS.Timeout | undefined;
      request.on('socket', (socket: Socket) => {
        if (!socket.connecting) return;
        connectTimer = setTimeout(() => {
          request.destroy(new WsmanTimeoutError('connect', o.connectTimeoutMs, this.#ctx));
        }, o.connectTimeoutMs);
        socket.once('connect', () => clearTimeout(connectTimer));
      });
      request.setTimeout(o.readTimeoutMs, () => {
        request.destroy(new WsmanTimeoutError('read', o.readTimeoutMs, this.#ctx));
      });
      request.on('response', (response) => {
        const parts: Buffer[] = [];
        response.on('data', (part: Buffer) => parts.push(part));
        response.on('error', (error) => reject(this.#mapError(error, request, false)));
        response.on('end', () => {
          clearTimeout(connectTimer);
          const text = Buffer.concat(parts).toString('utf8');
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text });
        });
      });
      request.on('error', (error) => {
        clearTimeout(connectTimer);
        reject(this.#mapError(error, request, signal?.aborted ?? false));
      });
      request.end(body);
    });
  }

  #mapError(error: Error, request: http.ClientRequest, aborted: boolean): unknown {
    if (aborted) return error;
    if (isWsmanError(error)) return error;
    const code = (error as NodeJS.ErrnoException).code;
    const ctx = { ...this.#ctx, cause: error };
    if (code && UNREACHABLE_CODES.has(code)) {
      return new WsmanUnreachableError(code, `cannot connect to ${ctx.endpoint}: ${code}`, ctx);
    }
    if (isTlsCode(code, error)) {
      return new WsmanTlsError(code, `TLS with ${ctx.endpoint} failed: ${error.message}`, ctx);
    }
    const lost = code === 'ECONNRESET' || code === 'EPIPE' || error.message === 'socket hang up';
    if (lost && request.reusedSocket) {
      return new StaleSocketError(
        new WsmanProtocolError(`connection to ${ctx.endpoint} dropped`, {
          ...ctx,
          retryable: true,
        }),
      );
    }
    if (lost)
      return new WsmanProtocolError(`connection to ${ctx.endpoint} dropped: ${error.message}`, {
        ...ctx,
        retryable: true,
      });
    return new WsmanProtocolError(`HTTP to ${ctx.endpoint} failed: ${error.message}`, {
      ...ctx,
      retryable: true,
    });
  }
}

/** A request on a reused keep-alive socket that the server had closed; safe to send again. */
class StaleSocketError extends Error {
  readonly wrapped: WsmanError;

  constructor(wrapped: WsmanError) {
    super(wrapped.message, { cause: wrapped });
    this.wrapped = wrapped;
  }
}

function isWsmanError(error: unknown): error is WsmanError {
  return error instanceof Error && 'kind' in error && 'retryable' in error;
}

function isTlsCode(code: string | undefined, error: Error): boolean {
  if (!code) return /certificate|SSL|TLS/i.test(error.message);
  return (
    code.startsWith('ERR_SSL_') ||
    code.startsWith('ERR_TLS_') ||
    code.includes('CERT') ||
    code === 'EPROTO' ||
    code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' ||
    code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'
  );
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
