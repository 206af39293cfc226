import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { MAX_STORED_OUTPUT_CHARS } from './items.ts';
import type { StateCounts } from './operation-outcome.ts';
import { type DeviceResult, FinalDeviceState } from './schemas/result.ts';

/**
 * How device results are stored in the results table (partition key `operationId`, sort key
 * `itemKey`). Writing one item per device costs one write unit per device; a sweep of 10,000
 * devices would cost 10,000. Instead each batch has ONE item holding every device's compact
 * result, gzip-compressed:
 * - `batch#<batchId>`: the batch's results, its per-state `counts` and `done`. It is the only
 *   record of progress: an operation's counts are the sum over its batch items, so a result is
 *   counted exactly when it is in its batch item, whatever was redelivered or repeated.
 * - `device#<deviceId>`: a device's stdout, stderr or output when too large to sit in its batch
 *   item (a script's or an inventory's output); written before the batch item names it.
 * - `plan#<n>` and `dispatch`: the operation's frozen batches and which of them were sent.
 *
 * What is kept per device: state, exit code, start, finish, duration, error (first
 * `MAX_INLINE_ERROR_CHARS`), cache age, and the output: a parsed JSON document (which makes
 * stdout redundant, so stdout is then dropped) or stdout and stderr. Outputs up to
 * `MAX_INLINE_OUTPUT_BYTES` stay inline, larger ones go to a `device#` item truncated to
 * `MAX_STORED_OUTPUT_CHARS`. The connector's archive keeps every byte.
 */
export const BATCH_KEY_PREFIX = 'batch#';
export const DEVICE_KEY_PREFIX = 'device#';
export const PLAN_KEY_PREFIX = 'plan#';
export const DISPATCH_KEY = 'dispatch';

/** Output of one device kept in its batch item at most; more goes to a `device#` item. */
export const MAX_INLINE_OUTPUT_BYTES = 2048;
/** Characters of a device's error kept in its batch item. */
export const MAX_INLINE_ERROR_CHARS = 1024;
/** A batch item's compressed results at most; past it, every output moves to `device#` items. */
export const MAX_BATCH_BLOB_BYTES = 300 * 1024;

export function batchKey(batchId: string): string {
  return `${BATCH_KEY_PREFIX}${batchId}`;
}

export function deviceKey(deviceId: string): string {
  return `${DEVICE_KEY_PREFIX}${deviceId}`;
}

/** The sort-key range that holds exactly the batch items (`#` < `$` in code point order). */
export const BATCH_KEY_RANGE = { from: BATCH_KEY_PREFIX, to: 'batch$' } as const;

/** One device's result as kept in its batch item; times are offsets from the item's base. */
export const CompactResult = z.object({
  d: z.string(),
  s: FinalDeviceState,
  x: z.number().int().optional(),
  /** startedAt and finishedAt, in ms after the batch item's `baseTime`. */
  t: z.number().int(),
  f: z.number().int(),
  ms: z.number().int().min(0),
  e: z.string().optional(),
  c: z.number().int().min(0).optional(),
  o: z.unknown().optional(),
  so: z.string().optional(),
  se: z.string().optional(),
  /** Set when stdout, stderr or output are in the device's `device#` item. */
  dt: z.literal(1).optional(),
});
export type CompactResult = z.infer<typeof CompactResult>;

/** A device's full output, as a `device#` item holds it. */
export interface DeviceDetail {
  deviceId: string;
  /** The result this output belongs to: a reader ignores a detail of another run. */
  finishedAt: string;
  stdout?: string;
  stderr?: string;
  output?: unknown;
  /** Full lengths of stdout and stderr, present only when they were cut. */
  stdoutChars?: number;
  stderrChars?: number;
}

/** The decoded content of a batch item. */
export interface ResultBatch {
  operationId: string;
  batchId: string;
  siteId: string;
  baseTime: string;
  entries: CompactResult[];
}

/** What a set of results becomes: compact entries and the details stored beside them. */
export interface CompactedResults {
  entries: CompactResult[];
  details: DeviceDetail[];
}

/** Compacts results for a batch item whose times count from `baseMs`; first result per device. */
export function compactResults(results: readonly DeviceResult[], baseMs: number): CompactedResults {
  const seen = new Set<string>();
  const entries: CompactResult[] = [];
  const details: DeviceDetail[] = [];
  for (const result of results) {
    if (seen.has(result.deviceId)) continue;
    seen.add(result.deviceId);
    const { entry, detail } = compactOne(result, baseMs);
    entries.push(entry);
    if (detail) details.push(detail);
  }
  return { entries, details };
}

function compactOne(result: DeviceResult, baseMs: number) {
  const entry: CompactResult = {
    d: result.deviceId,
    s: result.status,
    t: Date.parse(result.startedAt) - baseMs,
    f: Date.parse(result.finishedAt) - baseMs,
    ms: result.durationMs,
  };
  if (result.exitCode !== undefined) entry.x = result.exitCode;
  if (result.error !== undefined) entry.e = result.error.slice(0, MAX_INLINE_ERROR_CHARS);
  if (result.cacheAgeSeconds !== undefined) entry.c = result.cacheAgeSeconds;
  const output = outputOf(result);
  if (!output) return { entry };
  if (jsonBytes(output) <= MAX_INLINE_OUTPUT_BYTES) {
    Object.assign(entry, output);
    return { entry };
  }
  entry.dt = 1;
  const detail: DeviceDetail = {
    deviceId: result.deviceId,
    finishedAt: result.finishedAt,
    ...(output.o !== undefined ? { output: output.o } : {}),
    ...storedText('stdout', output.so),
    ...storedText('stderr', output.se),
  };
  return { entry, detail };
}

/** The output worth storing: a parsed document alone, else non-empty stdout and stderr. */
function outputOf(result: DeviceResult): Pick<CompactResult, 'o' | 'so' | 'se'> | undefined {
  if (result.output !== undefined) {
    return result.stderr ? { o: result.output, se: result.stderr } : { o: result.output };
  }
  const out: Pick<CompactResult, 'so' | 'se'> = {};
  if (result.stdout) out.so = result.stdout;
  if (result.stderr) out.se = result.stderr;
  return out.so === undefined && out.se === undefined ? undefined : out;
}

/** Moves every inline output to a detail, for a batch item that would be too large. */
export function spillOutputs(
  compacted: CompactedResults,
  finishedAt: (entry: CompactResult) => string,
): CompactedResults {
  const details = [...compacted.details];
  const entries = compacted.entries.map((entry) => {
    const { o, so, se, ...rest } = entry;
    if (o === undefined && so === undefined && se === undefined) return entry;
    details.push({
      deviceId: entry.d,
      finishedAt: finishedAt(entry),
      ...(o !== undefined ? { output: o } : {}),
      ...storedText('stdout', so),
      ...storedText('stderr', se),
    });
    return { ...rest, dt: 1 as const };
  });
  return { entries, details };
}

/**
 * Adds `incoming` to `existing`: a device already present keeps its result (the first final
 * result is the one counted), new devices are appended. Returns the merge and the new entries.
 */
export function mergeEntries(
  existing: readonly CompactResult[],
  incoming: readonly CompactResult[],
): { entries: CompactResult[]; added: CompactResult[] } {
  const present = new Set(existing.map((entry) => entry.d));
  const added = incoming.filter((entry) => !present.has(entry.d));
  return { entries: [...existing, ...added], added };
}

/** Shifts entries compacted against `fromMs` to count from `toMs`. */
export function rebase(entries: readonly CompactResult[], fromMs: number, toMs: number) {
  const shift = fromMs - toMs;
  if (shift === 0) return [...entries];
  return entries.map((entry) => ({ ...entry, t: entry.t + shift, f: entry.f + shift }));
}

/** Per-state counts of compact entries. */
export function countEntries(entries: readonly CompactResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const entry of entries) counts[entry.s] = (counts[entry.s] ?? 0) + 1;
  return counts;
}

/** Adds per-state counts into `into`. */
export function addCounts(into: Record<string, number>, counts: StateCounts): void {
  for (const [state, n] of Object.entries(counts)) into[state] = (into[state] ?? 0) + (n ?? 0);
}

export function encodeEntries(entries: readonly CompactResult[]): Uint8Array {
  return gzipSync(JSON.stringify(entries));
}

export function decodeEntries(blob: Uint8Array): CompactResult[] {
  return z.array(CompactResult).parse(JSON.parse(gunzipSync(blob).toString('utf8')));
}

/** A device's result rebuilt from its compact entry, with its detail when it matches. */
export function expandEntry(
  batch: Pick<ResultBatch, 'operationId' | 'batchId' | 'siteId' | 'baseTime'>,
  entry: CompactResult,
  detail?: DeviceDetail,
): DeviceResult {
  const baseMs = Date.parse(batch.baseTime);
  const finishedAt = new Date(baseMs + entry.f).toISOString();
  const result: DeviceResult = {
    operationId: batch.operationId,
    deviceId: entry.d,
    siteId: batch.siteId,
    batchId: batch.batchId,
    status: entry.s,
    startedAt: new Date(baseMs + entry.t).toISOString(),
    finishedAt,
    durationMs: entry.ms,
  };
  if (entry.x !== undefined) result.exitCode = entry.x;
  if (entry.e !== undefined) result.error = entry.e;
  if (entry.c !== undefined) result.cacheAgeSeconds = entry.c;
  if (entry.o !== undefined) result.output = entry.o;
  if (entry.so !== undefined) result.stdout = entry.so;
  if (entry.se !== undefined) result.stderr = entry.se;
  if (detail && detail.finishedAt === finishedAt) {
    if (detail.output !== undefined) result.output = detail.output;
    if (detail.stdout !== undefined) result.stdout = detail.stdout;
    if (detail.stderr !== undefined) result.stderr = detail.stderr;
    if (detail.stdoutChars !== undefined) {
      result.stdoutTruncated = true;
      result.stdoutChars = detail.stdoutChars;
    }
    if (detail.stderrChars !== undefined) {
      result.stderrTruncated = true;
      result.stderrChars = detail.stderrChars;
    }
  }
  return result;
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/** A detail's stdout or stderr: at most MAX_STORED_OUTPUT_CHARS, with the full length if cut. */
function storedText(name: 'stdout' | 'stderr', text: string | undefined): Partial<DeviceDetail> {
  if (text === undefined) return {};
  if (text.length <= MAX_STORED_OUTPUT_CHARS) return { [name]: text };
  return { [name]: text.slice(0, MAX_STORED_OUTPUT_CHARS), [`${name}Chars`]: text.length };
}
