import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeviceService, Reply } from './device.ts';
import { invalidRequest } from './faults.ts';
import { parseWsmanRequest } from './wsman-request.ts';
import { faultEnvelope } from './wsman-response.ts';
import { MalformedXmlError } from './xml.ts';

/** HTTP-level settings every device of a fleet shares. */
export interface HttpSettings {
  user: string;
  password: string;
  latencyMs: number;
  maxEnvelopeBytes: number;
}

const SOAP_CONTENT_TYPE = 'application/soap+xml;charset=UTF-8';
// HTTP.sys keeps an idle connection for 2 minutes; 30 s keeps descriptors in check at 10k devices.
const KEEP_ALIVE_TIMEOUT_MS = 30_000;

/** An HTTP server speaking WS-Management on `/wsman` for one simulated device. */
export function createDeviceServer(device: DeviceService, settings: HttpSettings): Server {
  const server = createServer((req, res) => {
    serve(device, settings, req, res).catch(() => res.destroy());
  });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.on('clientError', (_error, socket) => socket.destroy());
  return server;
}

async function serve(
  device: DeviceService,
  settings: HttpSettings,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (device.faults.dropConnection) {
    req.socket.destroy();
    return;
  }
  const delayMs = settings.latencyMs + (device.faults.slowResponseMs ?? 0);
  if (delayMs > 0) await sleep(delayMs);

  const refusal = refuse(settings, req);
  if (refusal) return answerEmpty(req, res, refusal.status, refusal.headers);
  const text = await readBody(req, settings.maxEnvelopeBytes);
  if (text === undefined) return answerEmpty(req, res, 413, { connection: 'close' });
  if (device.faults.malformedXml) return answer(res, { status: 200, body: garbage(device) });

  const reply = await dispatch(device, req, res, text);
  if (reply) answer(res, reply);
}

/** Why the request is turned away before its body is read, if it is. */
function refuse(
  settings: HttpSettings,
  req: IncomingMessage,
): { status: number; headers: Record<string, string | string[]> } | undefined {
  const path = (req.url ?? '').split('?')[0]?.toLowerCase();
  if (path !== '/wsman') return { status: 404, headers: {} };
  if (req.method !== 'POST') return { status: 405, headers: { allow: 'POST' } };
  if (!authorised(settings, req.headers.authorization)) {
    return { status: 401, headers: { 'www-authenticate': ['Negotiate', 'Basic realm="WSMAN"'] } };
  }
  if (!/^application\/soap\+xml/i.test(req.headers['content-type'] ?? '')) {
    return { status: 415, headers: {} };
  }
  const length = Number(req.headers['content-length'] ?? 0);
  if (length > settings.maxEnvelopeBytes) return { status: 413, headers: { connection: 'close' } };
  return undefined;
}

function authorised(settings: HttpSettings, header: string | undefined): boolean {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!match?.[1]) return false;
  const raw = Buffer.from(match[1], 'base64');
  // Clients disagree on the charset of Basic credentials (requests sends Latin-1): accept both.
  return [raw.toString('utf8'), raw.toString('latin1')].some((decoded) => {
    const colon = decoded.indexOf(':');
    return (
      colon >= 0 &&
      decoded.slice(0, colon) === settings.user &&
      decoded.slice(colon + 1) === settings.password
    );
  });
}

/** The body as text, or undefined once it grows past `maxBytes`. */
async function readBody(req: IncomingMessage, maxBytes: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBytes) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function dispatch(
  device: DeviceService,
  req: IncomingMessage,
  res: ServerResponse,
  text: string,
): Promise<Reply | null> {
  const user = Buffer.from((req.headers.authorization ?? '').replace(/^Basic\s+/i, ''), 'base64')
    .toString('utf8')
    .split(':', 1)[0] as string;
  let request: ReturnType<typeof parseWsmanRequest>;
  try {
    request = parseWsmanRequest(text);
  } catch (error) {
    if (!(error instanceof MalformedXmlError)) throw error;
    return { status: 400, body: faultEnvelope('', invalidRequest(error.message), device.address) };
  }
  const gone = new AbortController();
  // Only a client that went away before its answer aborts the work; after a normal answer
  // there is nothing left to stop (and an abort here costs an error object per request).
  res.on('close', () => {
    if (!res.writableFinished) gone.abort();
  });
  const clientIp = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  return device.handle(request, { user, clientIp, signal: gone.signal });
}

function answer(res: ServerResponse, reply: Reply): void {
  if (res.destroyed) return;
  const body = Buffer.from(reply.body, 'utf8');
  res.writeHead(reply.status, { 'content-type': SOAP_CONTENT_TYPE, 'content-length': body.length });
  res.end(body);
}

function answerEmpty(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  headers: Record<string, string | string[]>,
): void {
  res.writeHead(status, { ...headers, 'content-length': 0 });
  res.end();
  if (headers.connection === 'close') res.on('finish', () => req.socket.destroy());
  else req.resume();
}

function garbage(device: DeviceService): string {
  return `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><rsp:Rec\u0000eive ${device.computerName} <<&&`;
}
