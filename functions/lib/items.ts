import type { z } from 'zod';
import { CorruptItemError } from '../errors.ts';

/** Parses an item read back from DynamoDB; a mismatch is a fault of whoever wrote it. */
export function parseItem<S extends z.ZodType>(
  schema: S,
  item: unknown,
  table: string,
  key: string,
): z.output<S> {
  const parsed = schema.safeParse(item);
  if (!parsed.success) throw new CorruptItemError(table, key, parsed.error);
  return parsed.data;
}

/** Waits before retrying unprocessed items: 50 ms doubling per attempt, capped at 2 s. */
export function backoff(attempt: number): Promise<void> {
  const delayMs = Math.min(2000, 50 * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, delayMs));
}

/**
 * An UpdateItem expression that sets each of `fields` except the key attributes, so that an
 * update replaces what the caller owns and keeps what others write (health, last status).
 */
export function setExpression(fields: Record<string, unknown>, keyNames: readonly string[]) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets: string[] = [];
  for (const [i, [name, value]] of Object.entries(fields).entries()) {
    if (keyNames.includes(name) || value === undefined) continue;
    names[`#a${i}`] = name;
    values[`:v${i}`] = value;
    sets.push(`#a${i} = :v${i}`);
  }
  return {
    UpdateExpression: `SET ${sets.join(', ')}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}
