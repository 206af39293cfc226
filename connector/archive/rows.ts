import { z } from 'zod';
import { DeviceResult } from '../../shared/schemas/result.ts';

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

/** The named parameters of an insert for one result. */
export function toRow(result: DeviceResult): Omit<ResultRow, 'delivered_at'> {
  return {
    operation_id: result.operationId,
    device_id: result.deviceId,
    site_id: result.siteId,
    batch_id: result.batchId,
    status: result.status,
    exit_code: result.exitCode ?? null,
    stdout: result.stdout ?? null,
    stderr: result.stderr ?? null,
    output: result.output === undefined ? null : JSON.stringify(result.output),
    error: result.error ?? null,
    cache_age_seconds: result.cacheAgeSeconds ?? null,
    started_at: result.startedAt,
    finished_at: result.finishedAt,
    duration_ms: result.durationMs,
  };
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
    output: row.output === null ? undefined : JSON.parse(row.output),
    error: row.error ?? undefined,
    cacheAgeSeconds: row.cache_age_seconds ?? undefined,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    durationMs: row.duration_ms,
  });
  return { result, deliveredAt: row.delivered_at ?? undefined };
}
