import { z } from 'zod';
import { MAX_STORED_OUTPUT_CHARS } from '../../shared/items.ts';
import {
  Device,
  DeviceId,
  DeviceResult,
  DeviceState,
  FinalDeviceState,
  Operation,
  OperationId,
  OperationRequest,
  OperationStatus,
  Site,
  SiteId,
  SkippedSite,
} from '../../shared/schemas/index.ts';
import { MAX_IMPORT_BYTES, MAX_IMPORT_ROWS } from './device-csv.ts';
import { DeviceItem } from './devices-store.ts';
import { MetricPoint } from './metrics-store.ts';
import { SiteItem } from './sites-store.ts';

/**
 * Every route's input and output schemas, keyed by handler name: the handlers validate with
 * them and `GET /openapi.json` is generated from them, so the two cannot drift.
 */

/** A page size from the query string: an integer from 1 to `max`, `fallback` when absent. */
function limitParam(fallback: number, max: number) {
  return z
    .string()
    .regex(/^[0-9]{1,6}$/, 'an integer')
    .transform(Number)
    .pipe(z.number().int().min(1).max(max))
    .default(fallback)
    .describe(`page size, 1 to ${max}; default ${fallback}`);
}

/** An opaque cursor from a previous page's `nextCursor`. */
const Cursor = z.string().min(1).max(2048).describe("a previous page's nextCursor");

const OperationPath = z.strictObject({ id: OperationId });

function page<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().optional() });
}

export const ErrorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

/** A site with its connector's health and its queue's depth, as `GET /sites` lists it. */
export const SiteHealth = z.object({
  ...SiteItem.shape,
  /** Batches waiting in the site's queue; absent when the queue could not be read. */
  queueDepth: z.number().int().optional(),
  /** Batches received by a connector and not yet deleted. */
  queueInFlight: z.number().int().optional(),
});

export const CreatedOperation = z.object({
  operationId: OperationId,
  status: OperationStatus,
  total: z.number().int(),
  siteIds: z.array(SiteId),
  batchCount: z.number().int(),
  skipped: z.array(SkippedSite).optional(),
});

/** A device as `PUT /devices/{id}` takes it: the id comes from the path. */
export const DeviceBody = z.strictObject({
  ...Device.omit({ deviceId: true }).shape,
  deviceId: DeviceId.optional(),
});

/** A site as `PUT /sites/{id}` takes it: the seed's schema, the id from the path. */
export const SiteBody = z.strictObject({
  ...Site.omit({ siteId: true }).shape,
  siteId: SiteId.optional(),
});

/** What `POST /devices/import` did: rows imported, of which new devices and replaced ones. */
export const ImportSummary = z.object({
  imported: z.number().int(),
  created: z.number().int(),
  updated: z.number().int(),
  /** Rows of disabled computer accounts (`Enabled` False in an AD export), not imported. */
  skipped: z.number().int(),
});

/** An instant in the query string: ISO 8601 with a time zone, such as 2025-01-31T12:00:00Z. */
const Instant = z.iso
  .datetime({ offset: true })
  .describe('ISO 8601 date and time with Z or an offset');

export interface RouteSchemas {
  summary: string;
  /** Longer text for the OpenAPI operation's description. */
  description?: string;
  path?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** The body's media type when it is not JSON; the body schema then validates the text. */
  bodyMediaType?: string;
  /** Largest body accepted, in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  response: { status: number; schema: z.ZodType };
}

export const ROUTE_SCHEMAS = {
  'operations-create': {
    summary: 'Start an operation on the devices its targets name',
    body: OperationRequest,
    response: { status: 202, schema: CreatedOperation },
  },
  'operations-list': {
    summary: 'List operations, newest first',
    query: z.strictObject({ cursor: Cursor.optional(), limit: limitParam(20, 100) }),
    response: { status: 200, schema: page(Operation) },
  },
  'operations-get': {
    summary: 'Read an operation with its per-state counts',
    path: OperationPath,
    response: { status: 200, schema: Operation },
  },
  'operations-results': {
    summary: "Page through an operation's device results",
    description:
      `stdout and stderr are kept up to ${MAX_STORED_OUTPUT_CHARS} characters each. A result ` +
      'whose text was cut has stdoutTruncated (or stderrTruncated) true and the full length ' +
      "in stdoutChars (or stderrChars); the whole text is in the site's archive, on its " +
      'connector.',
    path: OperationPath,
    query: z.strictObject({
      status: FinalDeviceState.optional(),
      cursor: Cursor.optional(),
      limit: limitParam(100, 1000),
    }),
    response: { status: 200, schema: page(DeviceResult) },
  },
  'operations-cancel': {
    summary: 'Cancel an operation that has not ended',
    path: OperationPath,
    response: { status: 200, schema: Operation },
  },
  'devices-list': {
    summary: 'Page through registered devices, optionally of one site or last state',
    query: z.strictObject({
      siteId: SiteId.optional(),
      status: DeviceState.optional(),
      cursor: Cursor.optional(),
      limit: limitParam(100, 1000),
    }),
    response: { status: 200, schema: page(DeviceItem) },
  },
  'devices-import': {
    summary:
      'Register or replace devices from CSV: an Active Directory export (Name, DNSHostName, ' +
      'IPv4Address, Enabled) or computerName,address,siteId[,tags]; nothing is written unless ' +
      'every row is valid',
    query: z.strictObject({
      siteId: SiteId.optional().describe('the site of rows without a siteId column'),
    }),
    body: z.string().min(1).describe(`CSV with a header line, at most ${MAX_IMPORT_ROWS} rows`),
    bodyMediaType: 'text/csv',
    maxBodyBytes: MAX_IMPORT_BYTES,
    response: { status: 200, schema: ImportSummary },
  },
  'devices-metrics': {
    summary: "Page through a device's status metrics between two instants, oldest first",
    path: z.strictObject({ id: DeviceId }),
    query: z.strictObject({
      from: Instant.optional().describe('start, inclusive; default 24 hours before `to`'),
      to: Instant.optional().describe('end, inclusive; default now'),
      cursor: Cursor.optional(),
      limit: limitParam(500, 1000),
    }),
    response: { status: 200, schema: page(MetricPoint) },
  },
  'devices-put': {
    summary: 'Register or replace a device',
    path: z.strictObject({ id: DeviceId }),
    body: DeviceBody,
    response: { status: 200, schema: Device },
  },
  'sites-list': {
    summary: "List sites with their connectors' health",
    query: z.strictObject({}),
    response: { status: 200, schema: z.object({ items: z.array(SiteHealth) }) },
  },
  'sites-put': {
    summary: "Register or replace a site's configuration",
    path: z.strictObject({ id: SiteId }),
    body: SiteBody,
    response: { status: 200, schema: Site },
  },
  openapi: {
    summary: 'This API as an OpenAPI 3.1 document',
    query: z.strictObject({}),
    response: { status: 200, schema: z.record(z.string(), z.unknown()) },
  },
} as const satisfies Record<string, RouteSchemas>;
