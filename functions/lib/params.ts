import { z } from 'zod';
import { OperationId } from '../../shared/schemas/index.ts';

/** A page size from the query string: an integer from 1 to `max`, `fallback` when absent. */
export function limitParam(fallback: number, max = 1000) {
  return z
    .string()
    .regex(/^[0-9]{1,6}$/, 'an integer')
    .transform(Number)
    .pipe(z.number().int().min(1).max(max))
    .default(fallback);
}

/** An opaque cursor from a previous page's `nextCursor`. */
export const CursorParam = z.string().min(1).max(2048);

/** The `{id}` of the operation routes. */
export const OperationPath = z.strictObject({ id: OperationId });
