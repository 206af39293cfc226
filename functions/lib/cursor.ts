import type { z } from 'zod';
import { BadRequestError } from '../errors.ts';

/** An opaque page cursor: base64url of the DynamoDB LastEvaluatedKey. */
export function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  if (!key) return undefined;
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/**
 * Reads a cursor back into a start key, checked against `schema` so that a forged cursor cannot
 * point a query anywhere its own route could not.
 */
export function decodeCursor<T extends Record<string, unknown>>(
  cursor: string | undefined,
  schema: z.ZodType<T>,
): T | undefined {
  if (cursor === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (error) {
    throw new BadRequestError('InvalidCursor', 'the cursor is not one this API returned', {
      cause: error,
    });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new BadRequestError('InvalidCursor', 'the cursor is not one this API returned');
  }
  return parsed.data;
}
