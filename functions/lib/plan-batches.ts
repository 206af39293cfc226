import type { BatchMessage, DeviceTarget, Operation } from '../../shared/schemas/index.ts';
import { PayloadTooLargeError } from '../errors.ts';

/** One batch ready to send: its message and the exact body SQS receives. */
export interface PlannedBatch {
  batchId: string;
  siteId: string;
  deviceCount: number;
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
  devicesBySite: ReadonlyMap<string, readonly DeviceTarget[]>,
  limits: BatchLimits,
): PlannedBatch[] {
  const header = batchHeader(operation);
  const batches: PlannedBatch[] = [];
  for (const siteId of [...devicesBySite.keys()].sort()) {
    const devices = devicesBySite.get(siteId) ?? [];
    const emit = (slice: readonly DeviceTarget[]) => {
      const batchId = `${siteId}-${String(batches.length).padStart(5, '0')}`;
      const body = JSON.stringify({ ...header, batchId, siteId, devices: slice });
      const bodyBytes = Buffer.byteLength(body, 'utf8');
      if (bodyBytes <= limits.maxMessageBytes) {
        batches.push({ batchId, siteId, deviceCount: slice.length, body, bodyBytes });
      } else if (slice.length > 1) {
        const half = Math.ceil(slice.length / 2);
        emit(slice.slice(0, half));
        emit(slice.slice(half));
      } else {
        throw new PayloadTooLargeError(
          `one device's batch message has ${bodyBytes} bytes; SQS takes ${limits.maxMessageBytes}`,
        );
      }
    };
    for (let start = 0; start < devices.length; start += limits.maxDevicesPerBatch) {
      emit(devices.slice(start, start + limits.maxDevicesPerBatch));
    }
  }
  return batches;
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
