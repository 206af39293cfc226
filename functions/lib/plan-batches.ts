import type { BatchDevice, BatchMessage, Operation } from '../../shared/schemas/index.ts';
import { PayloadTooLargeError } from '../errors.ts';
import { planErrorBudgets } from './error-budgets.ts';

/** One batch ready to send: its devices, its message and the exact body SQS receives. */
export interface PlannedBatch {
  batchId: string;
  siteId: string;
  deviceCount: number;
  devices: readonly BatchDevice[];
  body: string;
  bodyBytes: number;
}

export interface BatchLimits {
  maxDevicesPerBatch: number;
  maxMessageBytes: number;
}

type BatchHeader = Omit<BatchMessage, 'batchId' | 'siteId' | 'devices'>;

/**
 * Cuts an operation's devices into batches: per site (in site order), at most
 * `maxDevicesPerBatch` devices each, and halved again while a message is over
 * `maxMessageBytes`. Batch ids are `<siteId>-<5-digit index>`, so a re-plan of the same
 * operation yields the same ids. Throws 413 when one device's message alone is too big.
 */
export function planBatches(
  operation: Operation,
  devicesBySite: ReadonlyMap<string, readonly BatchDevice[]>,
  limits: BatchLimits,
): PlannedBatch[] {
  const batches: PlannedBatch[] = [];
  const sites = [...devicesBySite].map(([siteId, devices]) => ({ siteId, devices }));
  const budgets = planErrorBudgets(operation.rateControl?.maxErrors, sites);
  for (const siteId of [...devicesBySite.keys()].sort()) {
    const devices = devicesBySite.get(siteId) ?? [];
    const emit = (slice: readonly BatchDevice[]) => {
      const batchId = `${siteId}-${String(batches.length).padStart(5, '0')}`;
      const batch = batchMessage(operation, { batchId, siteId, devices: slice }, budgets);
      if (batch.bodyBytes <= limits.maxMessageBytes) {
        batches.push(batch);
      } else if (slice.length > 1) {
        const half = Math.ceil(slice.length / 2);
        emit(slice.slice(0, half));
        emit(slice.slice(half));
      } else {
        throw new PayloadTooLargeError(
          `one device's batch message has ${batch.bodyBytes} bytes; SQS takes ${limits.maxMessageBytes}`,
        );
      }
    };
    for (let start = 0; start < devices.length; start += limits.maxDevicesPerBatch) {
      emit(devices.slice(start, start + limits.maxDevicesPerBatch));
    }
  }
  return batches;
}

/**
 * A batch's message, built the same way when it is planned and when it is sent. `budgets`:
 * each site's share of maxErrors (error-budgets.ts), carried as `siteMaxErrors`.
 */
export function batchMessage(
  operation: Operation,
  slice: { batchId: string; siteId: string; devices: readonly BatchDevice[] },
  budgets: ReadonlyMap<string, number> = new Map(),
): PlannedBatch {
  const siteMaxErrors = budgets.get(slice.siteId);
  const header = {
    ...batchHeader(operation),
    ...(siteMaxErrors === undefined ? {} : { siteMaxErrors }),
  };
  const body = toSqsSafeJson({ ...header, ...slice });
  const bodyBytes = Buffer.byteLength(body, 'utf8');
  return { ...slice, deviceCount: slice.devices.length, body, bodyBytes };
}

/**
 * Code units SQS could refuse in a message body. Real SQS takes #x9 #xA #xD, #x20-#xD7FF,
 * #xE000-#xFFFD and #x10000-#x10FFFF; fauxqs checks code units, so it also refuses surrogates
 * (every character above U+FFFF). JSON.stringify already escapes everything below #x20.
 */
const SQS_UNSAFE_CODE_UNIT = /[^\x20-\ud7ff\ue000-\ufffd]/g;

/**
 * JSON of `value` with every code unit SQS could refuse written as a `\uXXXX` escape (an astral
 * character becomes its escaped surrogate pair). Outside strings JSON is plain ASCII, so only
 * string contents change, and `JSON.parse` gives back the identical value.
 */
export function toSqsSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(
    SQS_UNSAFE_CODE_UNIT,
    (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function batchHeader(operation: Operation): BatchHeader {
  return {
    version: 1,
    operationId: operation.operationId,
    type: operation.type,
    parameters: operation.parameters ?? {},
    rateControl: operation.rateControl ?? {},
    force: operation.force ?? false,
    operationTotal: operation.total,
    createdAt: operation.createdAt,
  };
}
