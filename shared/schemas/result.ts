import { z } from 'zod';
import { DeviceId } from './device.ts';
import { OperationId } from './operation.ts';
import { SiteId } from './site.ts';

export const FinalDeviceState = z.enum([
  'Success',
  'Failed',
  'TimedOut',
  'Unreachable',
  'Cancelled',
  'Cached',
  /** Not run: the batch waited past its time-to-live at a site without queued actions. */
  'Expired',
]);
export type FinalDeviceState = z.infer<typeof FinalDeviceState>;

export const DeviceState = z.enum(['Pending', 'InProgress', ...FinalDeviceState.options]);
export type DeviceState = z.infer<typeof DeviceState>;

/** States that count as success when an operation's outcome is decided. */
export const SUCCESS_STATES: ReadonlySet<FinalDeviceState> = new Set(['Success', 'Cached']);

/** One device's outcome for one operation. */
export const DeviceResult = z.object({
  operationId: OperationId,
  deviceId: DeviceId,
  siteId: SiteId,
  batchId: z.string(),
  status: FinalDeviceState,
  exitCode: z.number().int().optional(),
  stdout: z.string().optional(),
  stderr: z.string().optional(),
  /**
   * Set when `stdout` was cut to the first MAX_STORED_OUTPUT_CHARS characters kept in the
   * results table; `stdoutChars` is then its full length. The site's archive has all of it.
   */
  stdoutTruncated: z
    .boolean()
    .optional()
    .describe("true when stdout was cut; the site's archive has all of it"),
  stdoutChars: z.number().int().min(0).optional().describe('full length of a cut stdout'),
  /** As `stdoutTruncated` and `stdoutChars`, for stderr. */
  stderrTruncated: z
    .boolean()
    .optional()
    .describe("true when stderr was cut; the site's archive has all of it"),
  stderrChars: z.number().int().min(0).optional().describe('full length of a cut stderr'),
  /** The parsed JSON document a built-in script prints. */
  output: z.unknown().optional(),
  error: z.string().optional(),
  /** Seconds since a cached answer was produced, when status is Cached. */
  cacheAgeSeconds: z.number().int().min(0).optional(),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationMs: z.number().int().min(0),
});
export type DeviceResult = z.infer<typeof DeviceResult>;
