import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { Logger } from '../../shared/logger.ts';
import { decideOperationStatus } from '../../shared/operation-outcome.ts';
import {
  putResultBatch,
  type ResultBatchRef,
  type ResultBatchWrite,
  readBatchProgress,
} from '../../shared/result-batch-store.ts';
import type { DeviceResult, DeviceState } from '../../shared/schemas/result.ts';
import { tableName } from '../../shared/tables.ts';
import { DeliveryError } from '../errors.ts';

/** `delivered` when this call added the result, `duplicate` when it was already there. */
export type DeliveryOutcome = 'delivered' | 'duplicate';

export interface ResultDeliveryOptions {
  client: DynamoDBDocumentClient;
  prefix: string;
  logger: Logger;
  /** Called with the operation's counts and status after each delivery that added results. */
  onProgress?: (operationId: string, progress: OperationProgress) => void;
}

/** An operation's counts and status after a delivery, read back with zod. */
export const OperationProgress = z.object({
  status: z.string(),
  total: z.number(),
  done: z.number(),
  counts: z.record(z.string(), z.number()),
});
export type OperationProgress = z.infer<typeof OperationProgress>;

export interface DeliverResultsOptions {
  signal?: AbortSignal;
  /**
   * Each device's state as the control plane last recorded it (the batch message carries it):
   * a device whose new state equals it is not written. A device missing here is written on
   * the condition that its state changed (which costs a write unit either way).
   */
  previousStatus?: ReadonlyMap<string, DeviceState | undefined>;
}

/** What one batch's delivery did; the batch item's content for the metrics writer. */
export interface DeliveredBatch extends ResultBatchWrite {
  ref: ResultBatchRef;
}

export interface ResultsDeliveryOutcome {
  /** Results added to their batch items by this call. */
  delivered: number;
  /** Results their batch items already held. */
  duplicate: number;
  batches: DeliveredBatch[];
}

const OPEN_STATUSES = ['Pending', 'InProgress'];

const StoredOperation = z.object({ status: z.string(), total: z.number() });

/**
 * Delivers device results to DynamoDB so that each device of an operation is counted exactly
 * once: the results of one batch go into that batch's single item (shared/result-batches.ts),
 * merged with what it holds. The operation's progress is the sum over its batch items, so
 * there is no counter to lose between two writes. After a delivery the operation's progress
 * is read back; the delivery that completes it records the final status and counts.
 */
export class ResultDelivery {
  readonly #client: DynamoDBDocumentClient;
  readonly #prefix: string;
  readonly #logger: Logger;
  readonly #onProgress: ResultDeliveryOptions['onProgress'];

  constructor(options: ResultDeliveryOptions) {
    this.#client = options.client;
    this.#prefix = options.prefix;
    this.#logger = options.logger;
    this.#onProgress = options.onProgress;
  }

  /**
   * Delivers one result. Each call rewrites its whole batch item: prefer `deliverResults` with
   * every result of a batch at once.
   */
  async deliver(result: DeviceResult, signal?: AbortSignal): Promise<DeliveryOutcome> {
    const outcome = await this.deliverResults([result], { signal });
    return outcome.delivered > 0 ? 'delivered' : 'duplicate';
  }

  /**
   * Delivers results of any operations and batches, one batch item write per batch. Repeating
   * it, or delivering a subset or a superset of what was delivered before, never counts a
   * device twice. Throws DeliveryError when DynamoDB did not accept a batch.
   */
  async deliverResults(
    results: readonly DeviceResult[],
    options: DeliverResultsOptions = {},
  ): Promise<ResultsDeliveryOutcome> {
    const outcome: ResultsDeliveryOutcome = { delivered: 0, duplicate: 0, batches: [] };
    const touched = new Set<string>();
    for (const [ref, batchResults] of groupByBatch(results)) {
      const write = await this.#putBatch(ref, batchResults, options.signal);
      outcome.delivered += write.addedDeviceIds.length;
      outcome.duplicate += batchResults.length - write.addedDeviceIds.length;
      outcome.batches.push({ ...write, ref });
      if (write.outcome === 'written') touched.add(ref.operationId);
      await this.#touchDevices(batchResults, write.addedDeviceIds, options);
    }
    for (const operationId of touched) await this.#progress(operationId, options.signal);
    return outcome;
  }

  async #putBatch(ref: ResultBatchRef, results: DeviceResult[], signal?: AbortSignal) {
    try {
      return await putResultBatch(this.#client, this.#prefix, ref, results, signal);
    } catch (error) {
      const first = results[0]?.deviceId ?? '';
      throw new DeliveryError('DynamoDB did not accept the batch', ref.operationId, first, {
        cause: error,
      });
    }
  }

  /** Reads the operation's progress; records its outcome once every device has a result. */
  async #progress(operationId: string, signal?: AbortSignal): Promise<void> {
    try {
      const operation = await this.#readOperation(operationId, signal);
      if (!operation) return;
      const counted = await readBatchProgress(this.#client, this.#prefix, operationId, { signal });
      const progress = { ...operation, done: counted.done, counts: counted.counts };
      if (counted.done >= operation.total) await this.#settle(operationId, progress, signal);
      this.#onProgress?.(operationId, progress);
    } catch (error) {
      // The results are stored; GET /operations/{id} derives the same progress itself.
      if (!signal?.aborted) this.#logger.warn({ err: error, operationId }, 'progress not read');
    }
  }

  async #readOperation(operationId: string, signal?: AbortSignal) {
    const out = await this.#client.send(
      new GetCommand({
        TableName: tableName(this.#prefix, 'operations'),
        Key: { operationId },
        ProjectionExpression: '#status, #total',
        ExpressionAttributeNames: { '#status': 'status', '#total': 'total' },
        ConsistentRead: true,
      }),
      { abortSignal: signal },
    );
    return out.Item ? StoredOperation.parse(out.Item) : undefined;
  }

  /** Records the final status and counts, unless the operation already ended (cancel). */
  async #settle(operationId: string, progress: OperationProgress, signal?: AbortSignal) {
    if (!OPEN_STATUSES.includes(progress.status)) return;
    const status = decideOperationStatus(progress.counts, progress.total);
    const now = new Date().toISOString();
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: tableName(this.#prefix, 'operations'),
          Key: { operationId },
          UpdateExpression:
            'SET #status = :status, finishedAt = :now, updatedAt = :now, counts = :counts, done = :done',
          ConditionExpression: '#status IN (:pending, :inProgress)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':status': status,
            ':now': now,
            ':counts': progress.counts,
            ':done': progress.done,
            ':pending': 'Pending',
            ':inProgress': 'InProgress',
          },
        }),
        { abortSignal: signal },
      );
      progress.status = status;
      this.#logger.info({ operationId, status }, 'operation finished');
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /**
   * Best effort: the last known state of each device this delivery added, written only when it
   * changed. A result that says nothing new about the device (a cached answer, or a device never
   * contacted: see saysAboutDevice) never changes it.
   */
  async #touchDevices(
    results: readonly DeviceResult[],
    addedDeviceIds: readonly string[],
    options: DeliverResultsOptions,
  ): Promise<void> {
    const added = new Set(addedDeviceIds);
    const changed = results.filter((result) => {
      if (!added.has(result.deviceId) || !saysAboutDevice(result)) return false;
      const known = options.previousStatus?.has(result.deviceId);
      return !known || options.previousStatus?.get(result.deviceId) !== result.status;
    });
    for (const result of changed) {
      const known = options.previousStatus?.has(result.deviceId) ?? false;
      await this.#touchDevice(result, known, options.signal);
    }
  }

  async #touchDevice(result: DeviceResult, known: boolean, signal?: AbortSignal): Promise<void> {
    const seen = result.status !== 'Unreachable';
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: tableName(this.#prefix, 'devices'),
          Key: { deviceId: result.deviceId },
          UpdateExpression: seen
            ? 'SET lastStatus = :status, lastSeenAt = :at'
            : 'SET lastStatus = :status',
          ConditionExpression: known
            ? 'attribute_exists(deviceId)'
            : 'attribute_exists(deviceId) AND (attribute_not_exists(lastStatus) OR lastStatus <> :status)',
          ExpressionAttributeValues: {
            ':status': result.status,
            ...(seen ? { ':at': result.finishedAt } : {}),
          },
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return;
      this.#logger.warn({ err: error, deviceId: result.deviceId }, 'device status not updated');
    }
  }
}

/**
 * Whether a result tells anything about the device itself, so that it may change the device's
 * lastStatus (and lastSeenAt, which means the device answered). Not so for a cached answer,
 * nor for a device that was never contacted: Cancelled, Expired, and the Failed results the
 * connector gives devices it did not run (parameters unfit for the type, a dead-lettered
 * batch), which `unrunResult` makes with no exit code and no duration.
 */
export function saysAboutDevice(result: DeviceResult): boolean {
  if (['Cached', 'Cancelled', 'Expired'].includes(result.status)) return false;
  const unrun =
    result.status === 'Failed' &&
    result.exitCode === undefined &&
    result.durationMs === 0 &&
    result.startedAt === result.finishedAt;
  return !unrun;
}

/** Results grouped by their batch, in the order their batches first appear. */
function groupByBatch(results: readonly DeviceResult[]): Map<ResultBatchRef, DeviceResult[]> {
  const byKey = new Map<string, { ref: ResultBatchRef; results: DeviceResult[] }>();
  for (const result of results) {
    const key = `${result.operationId}\n${result.batchId}`;
    let group = byKey.get(key);
    if (!group) {
      const { operationId, batchId, siteId } = result;
      group = { ref: { operationId, batchId, siteId }, results: [] };
      byKey.set(key, group);
    }
    group.results.push(result);
  }
  return new Map([...byKey.values()].map((group) => [group.ref, group.results]));
}
