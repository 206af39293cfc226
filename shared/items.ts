/**
 * How the shared model is stored in DynamoDB: item shapes beyond the zod schemas themselves.
 * - operations: `Operation` + `listKey` (constant, for the newest-first index) + `expiresAt`.
 *   `counts` starts as an empty map and `done` at 0; a connector adds 1 to `counts.<state>`
 *   and to `done` for each device result it writes for the first time.
 * - results: `DeviceResult` + `expiresAt`; written with a condition that it does not exist.
 * - devices: `Device` + optional `lastStatus`, `lastSeenAt`.
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
