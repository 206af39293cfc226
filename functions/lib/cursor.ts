import { z } from 'zod';
import { BadRequestError } from '../errors.ts';

/**
 * The query a cursor was returned for: its route's path id and filters (not `limit`, which may
 * change between pages). A cursor is only taken back by the same query, since a start key of
 * one query can be outside another's bounds (DynamoDB then refuses the call) or skip its items.
 */
export type CursorScope = Readonly<Record<string, string | undefined>>;

/** A cursor as encoded: the scope `q` it belongs to and the start key `k`. */
const CursorEnvelope = z.strictObject({
  q: z.record(z.string(), z.string()),
  k: z.record(z.string(), z.unknown()),
});

/** An opaque page cursor: base64url of the DynamoDB LastEvaluatedKey and the query's scope. */
export function encodeCursor(
  key: Record<string, unknown> | undefined,
  scope: CursorScope,
): string | undefined {
  if (!key) return undefined;
  const envelope = { q: canonicalScope(scope), k: key };
  return Buffer.from(JSON.stringify(envelope), 'utf8').toString('base64url');
}

/**
 * Reads a cursor back into a start key. Throws 400 InvalidCursor unless the cursor came from
 * the same `scope` and its key passes `schema`, so that a forged or reused cursor cannot point
 * a query anywhere its own route could not.
 */
export function decodeCursor<T extends Record<string, unknown>>(
  cursor: string | undefined,
  schema: z.ZodType<T>,
  scope: CursorScope,
): T | undefined {
  if (cursor === undefined) return undefined;
  const envelope = CursorEnvelope.safeParse(readJson(cursor));
  if (!envelope.success) throw notOurs();
  const issuedFor = JSON.stringify(canonicalScope(envelope.data.q));
  if (issuedFor !== JSON.stringify(canonicalScope(scope))) {
    throw new BadRequestError(
      'InvalidCursor',
      `the cursor belongs to another query (${issuedFor}); repeat the query it came from`,
    );
  }
  const parsed = schema.safeParse(envelope.data.k);
  if (!parsed.success) throw notOurs();
  return parsed.data;
}

function readJson(cursor: string): unknown {
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (error) {
    throw notOurs(error);
  }
}

function notOurs(cause?: unknown): BadRequestError {
  return new BadRequestError('InvalidCursor', 'the cursor is not one this API returned', {
    cause,
  });
}

/** The scope's defined entries in key order, so that equal scopes encode equally. */
function canonicalScope(scope: CursorScope): Record<string, string> {
  const entries = Object.entries(scope).filter(
    (entry): entry is [string, string] => entry[1] !== undefined,
  );
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
