import { z } from 'zod';
import { Device } from '../shared/schemas/device.ts';
import { Operation, type OperationRequest } from '../shared/schemas/operation.ts';
import { DeviceResult, DeviceState, type FinalDeviceState } from '../shared/schemas/result.ts';
import { Site } from '../shared/schemas/site.ts';

/** An error answer from the winfleet API, with the JSON error body it sent. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(`${status} ${code}: ${message}`);
    this.name = 'ApiError';
  }
}

/** A request about to be sent, as an authorizer sees it. */
export interface OutgoingRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

/** Returns the headers that authorize a request (a bearer token, a SigV4 signature). */
export type Authorizer = (request: OutgoingRequest) => Promise<Record<string, string>>;

/** `Authorization: Bearer <token>`, as the local gateway takes it. */
export function bearerAuthorizer(token: string): Authorizer {
  return async (request) => ({ ...request.headers, authorization: `Bearer ${token}` });
}

const ErrorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});
/** API Gateway's own refusals (IAM authorization, throttling) carry only a message. */
const GatewayErrorBody = z.object({ message: z.string() });

const Accepted = z.looseObject({ operationId: z.string(), total: z.number().int() });
const ResultsPage = z.object({
  items: z.array(DeviceResult.partial().required({ deviceId: true, siteId: true, status: true })),
  nextCursor: z.string().optional(),
});
export type ResultsPage = z.infer<typeof ResultsPage>;
export type ResultItem = ResultsPage['items'][number];

const OperationsPage = z.object({ items: z.array(Operation), nextCursor: z.string().optional() });
export type OperationsPage = z.infer<typeof OperationsPage>;

export const DeviceListItem = z.looseObject({
  ...Device.shape,
  lastStatus: DeviceState.optional(),
  lastSeenAt: z.string().optional(),
});
export type DeviceListItem = z.infer<typeof DeviceListItem>;
const DevicesPage = z.object({
  items: z.array(DeviceListItem),
  nextCursor: z.string().optional(),
});
export type DevicesPage = z.infer<typeof DevicesPage>;

export const SiteListItem = z.looseObject({
  ...Site.shape,
  connectorLastSeenAt: z.string().optional(),
  connectorVersion: z.string().optional(),
  queueDepth: z.number().int().optional(),
  queueInFlight: z.number().int().optional(),
});
export type SiteListItem = z.infer<typeof SiteListItem>;

const ImportSummary = z.looseObject({
  imported: z.number().int(),
  created: z.number().int(),
  updated: z.number().int(),
  skipped: z.number().int().optional(),
});
export type ImportSummary = z.infer<typeof ImportSummary>;

export interface RequestOptions {
  /** Media type of a string body. Default application/json (other bodies are always JSON). */
  contentType?: string;
}

/** A small client of the HTTP API (DESIGN.md contract 3); every answer is parsed with zod. */
export class ApiClient {
  readonly #baseUrl: string;
  readonly #authorize: Authorizer;

  /** `auth` is a bearer token or an authorizer such as `sigV4Authorizer`. */
  constructor(baseUrl: string, auth: string | Authorizer) {
    this.#baseUrl = baseUrl.replace(/\/+$/, '');
    this.#authorize = typeof auth === 'string' ? bearerAuthorizer(auth) : auth;
  }

  async submit(request: OperationRequest) {
    return Accepted.parse(await this.request('POST', '/operations', request));
  }

  async operation(operationId: string): Promise<Operation> {
    return Operation.parse(await this.request('GET', `/operations/${enc(operationId)}`));
  }

  async operationsPage(options: { cursor?: string; limit?: number } = {}) {
    return OperationsPage.parse(await this.request('GET', `/operations${query(options)}`));
  }

  async cancel(operationId: string): Promise<Operation> {
    return Operation.parse(await this.request('POST', `/operations/${enc(operationId)}/cancel`));
  }

  async resultsPage(
    operationId: string,
    cursor?: string,
    options: { status?: FinalDeviceState; limit?: number } = {},
  ): Promise<ResultsPage> {
    const path = `/operations/${enc(operationId)}/results${query({ ...options, cursor })}`;
    return ResultsPage.parse(await this.request('GET', path));
  }

  /** Every result of an operation, following the pagination cursor. */
  async allResults(
    operationId: string,
    options: { status?: FinalDeviceState } = {},
  ): Promise<ResultItem[]> {
    return collect((cursor) => this.resultsPage(operationId, cursor, { ...options, limit: 1000 }));
  }

  async devicesPage(
    options: { siteId?: string; status?: string; cursor?: string; limit?: number } = {},
  ): Promise<DevicesPage> {
    return DevicesPage.parse(await this.request('GET', `/devices${query(options)}`));
  }

  /** Every registered device, of one site or of all, following the pagination cursor. */
  async allDevices(options: { siteId?: string; status?: string } = {}) {
    return collect((cursor) => this.devicesPage({ ...options, cursor, limit: 1000 }));
  }

  /** Sends CSV (an AD export or computerName,address,siteId[,tags]) to `POST /devices/import`. */
  async importDevices(csv: string, options: { siteId?: string } = {}): Promise<ImportSummary> {
    const answer = await this.request('POST', `/devices/import${query(options)}`, csv, {
      contentType: 'text/csv; charset=utf-8',
    });
    return ImportSummary.parse(answer);
  }

  async sites(): Promise<SiteListItem[]> {
    const answer = await this.request('GET', '/sites');
    return z.object({ items: z.array(SiteListItem) }).parse(answer).items;
  }

  async putSite(site: Site): Promise<Site> {
    return Site.parse(await this.request('PUT', `/sites/${enc(site.siteId)}`, site));
  }

  async request(
    method: string,
    path: string,
    body?: unknown,
    options: RequestOptions = {},
  ): Promise<unknown> {
    const text = typeof body === 'string' || body === undefined ? body : JSON.stringify(body);
    const url = new URL(`${this.#baseUrl}${path}`);
    const contentType = options.contentType ?? 'application/json';
    const headers: Record<string, string> =
      text === undefined ? {} : { 'content-type': contentType };
    const authorized = await this.#authorize({ method, url, headers, body: text });
    const response = await fetch(url, { method, headers: authorized, body: text });
    return answerOf(response);
  }
}

async function answerOf(response: Response): Promise<unknown> {
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    if (response.ok) throw new ApiError(response.status, 'NotJson', text.slice(0, 200));
  }
  if (response.ok) return json;
  const parsed = ErrorBody.safeParse(json);
  if (parsed.success) {
    const { code, message, details } = parsed.data.error;
    throw new ApiError(response.status, code, message, details);
  }
  const gateway = GatewayErrorBody.safeParse(json);
  const message = gateway.success ? gateway.data.message : text.slice(0, 500);
  throw new ApiError(response.status, response.statusText || 'Unknown', message);
}

async function collect<T>(
  page: (cursor?: string) => Promise<{ items: T[]; nextCursor?: string }>,
): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const next = await page(cursor);
    items.push(...next.items);
    cursor = next.nextCursor;
  } while (cursor);
  return items;
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
