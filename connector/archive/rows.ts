import { z } from 'zod';
import { DeviceResult } from '../../shared/schemas/result.ts';
import { StatusOutput } from '../../shared/scripts/index.ts';

/** A `results` row as SQLite returns it. */
export const ResultRow = z.object({
  operation_id: z.string(),
  device_id: z.string(),
  site_id: z.string(),
  batch_id: z.string(),
  status: z.string(),
  exit_code: z.number().nullable(),
  stdout: z.string().nullable(),
  stderr: z.string().nullable(),
  output: z.string().nullable(),
  error: z.string().nullable(),
  cache_age_seconds: z.number().nullable(),
  started_at: z.string(),
  finished_at: z.string(),
  duration_ms: z.number(),
  delivered_at: z.string().nullable(),
});
export type ResultRow = z.infer<typeof ResultRow>;

/** A result as archived, with when the cloud accepted it (undefined while in the outbox). */
export interface ArchivedResult {
  result: DeviceResult;
  deliveredAt: string | undefined;
}

/** The columns an insert fills, in the order of `toValues`. */
export const INSERT_COLUMNS = [
  'operation_id',
  'device_id',
  'site_id',
  'batch_id',
  'status',
  'exit_code',
  'stdout',
  'stderr',
  'output',
  'error',
  'cache_age_seconds',
  'started_at',
  'finished_at',
  'duration_ms',
] as const;

/**
 * The positional parameters of an insert for one result, in `INSERT_COLUMNS` order
 * (positional binding is measurably cheaper than named binding in better-sqlite3).
 */
export function toValues(result: DeviceResult): unknown[] {
  return [
    result.operationId,
    result.deviceId,
    result.siteId,
    result.batchId,
    result.status,
    result.exitCode ?? null,
    result.stdout ?? null,
    result.stderr ?? null,
    outputColumn(result),
    result.error ?? null,
    result.cacheAgeSeconds ?? null,
    result.startedAt,
    result.finishedAt,
    result.durationMs,
  ];
}

/**
 * A built-in operation's output is usually its stdout parsed as is: then the column holds ''
 * (never a JSON text) instead of a second copy, which halves a status row.
 */
export const OUTPUT_IS_STDOUT = '';

function outputColumn(result: DeviceResult): string | null {
  if (result.output === undefined) return null;
  const json = JSON.stringify(result.output);
  return json === result.stdout?.trim() ? OUTPUT_IS_STDOUT : json;
}

function readOutput(row: ResultRow): unknown {
  if (row.output === null) return undefined;
  return JSON.parse(row.output === OUTPUT_IS_STDOUT ? (row.stdout ?? 'null') : row.output);
}

/** The columns of a `metrics` row, in the order of `toMetricValues`. */
export const METRIC_COLUMNS = [
  'device_id',
  'timestamp',
  'site_id',
  'operation_id',
  'uptime_seconds',
  'cpu_percent',
  'memory_total_bytes',
  'memory_free_bytes',
  'disk_free_bytes',
  'disk_total_bytes',
] as const;

/**
 * The metric point of a fresh status answer (a Success whose output is a status document), or
 * undefined: a Cached answer is not a new measurement.
 */
export function toMetricValues(result: DeviceResult): unknown[] | undefined {
  if (result.status !== 'Success' || result.output === undefined) return undefined;
  const parsed = StatusOutput.safeParse(result.output);
  if (!parsed.success) return undefined;
  const point = parsed.data;
  return [
    result.deviceId,
    result.finishedAt,
    result.siteId,
    result.operationId,
    point.uptimeSeconds,
    point.cpuPercent,
    point.memoryTotalBytes,
    point.memoryFreeBytes,
    point.diskFreeBytes,
    point.diskTotalBytes,
  ];
}

/** Parses a row read back from SQLite into an archived result. */
export function fromRow(raw: unknown): ArchivedResult {
  const row = ResultRow.parse(raw);
  const result = DeviceResult.parse({
    operationId: row.operation_id,
    deviceId: row.device_id,
    siteId: row.site_id,
    batchId: row.batch_id,
    status: row.status,
    exitCode: row.exit_code ?? undefined,
    stdout: row.stdout ?? undefined,
    stderr: row.stderr ?? undefined,
    output: readOutput(row),
    error: row.error ?? undefined,
    cacheAgeSeconds: row.cache_age_seconds ?? undefined,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    durationMs: row.duration_ms,
  });
  return { result, deliveredAt: row.delivered_at ?? undefined };
}
