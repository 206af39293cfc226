/**
 * How the shared model is stored in DynamoDB: item shapes beyond the zod schemas themselves.
 * - operations: `Operation` + `listKey` (constant, for the newest-first index) + `expiresAt`.
 *   `counts` and `done` stay empty while the operation runs: its progress is the sum over its
 *   batch items in the results table, read by `GET /operations/{id}`. When the last result
 *   arrives the connector that delivered it records the final counts and status here.
 * - results: one item per batch, per large output and per dispatch (shared/result-batches.ts).
 * - devices: `Device` + optional `lastStatus`, `lastSeenAt`, written by a connector only when
 *   the device's state changed (a `Cached` answer never changes it): `lastSeenAt` is the time
 *   of the result that changed it.
 * - sites: `Site` + connector health (`connectorLastSeenAt`, `connectorVersion`).
 */
export const OPERATION_LIST_KEY = 'operation';

/** How long operations and results are kept, in days. */
export const RESULT_RETENTION_DAYS = 30;

/** Longest stdout or stderr stored per result in DynamoDB (the archive keeps everything). */
export const MAX_STORED_OUTPUT_CHARS = 32 * 1024;

/** The epoch-seconds expiry for an item written now and kept `days` days. */
export function expiresAtSeconds(days: number, now = Date.now()): number {
  return Math.floor(now / 1000) + days * 86_400;
}
