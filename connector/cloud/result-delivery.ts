import { setTimeout as sleep } from 'node:timers/promises';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import {
  expiresAtSeconds,
  MAX_STORED_OUTPUT_CHARS,
  RESULT_RETENTION_DAYS,
} from '../../shared/items.ts';
import type { Logger } from '../../shared/logger.ts';
import { decideOperationStatus } from '../../shared/operation-outcome.ts';
import type { DeviceResult } from '../../shared/schemas/result.ts';
import { tableName } from '../../shared/tables.ts';
import { DeliveryError } from '../errors.ts';

/** `delivered` when this call wrote the result, `duplicate` when it was already there. */
export type DeliveryOutcome = 'delivered' | 'duplicate';

export interface ResultDeliveryOptions {
  client: DynamoDBDocumentClient;
  prefix: string;
  logger: Logger;
  /** Called with the operation's counts and status after each result this delivery counted. */
  onProgress?: (operationId: string, progress: OperationProgress) => void;
}

/** What the operation's counter update returns, read back with zod. */
export const OperationProgress = z.object({
  status: z.string(),
  total: z.number(),
  done: z.number(),
  counts: z.record(z.string(), z.number()),
});

/** Back-off while waiting for an operation the control plane has not recorded yet. */
const OPERATION_WAIT_MS = [100, 250, 500, 1000, 2000];

export type OperationProgress = z.infer<typeof OperationProgress>;

const OPEN_STATUSES = ['Pending', 'InProgress'];

/**
 * Delivers device results to DynamoDB exactly once per operation's device: the result item is
 * written only if absent, and the operation's counters move only when that write succeeded.
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

  /** Writes one result and counts it; throws DeliveryError when DynamoDB did not accept it. */
  async deliver(result: DeviceResult, signal?: AbortSignal): Promise<DeliveryOutcome> {
    try {
      if (!(await this.#putResult(result, signal))) return 'duplicate';
      // Known gap: a crash between the put and this update loses one count (no transactions).
      const progress = await this.#countResultOnceRecorded(result, signal);
      await this.#settleOperation(result.operationId, progress, signal);
      this.#onProgress?.(result.operationId, progress);
    } catch (error) {
      throw new DeliveryError(
        'DynamoDB did not accept the result',
        result.operationId,
        result.deviceId,
        {
          cause: error,
        },
      );
    }
    await this.#touchDevice(result, signal);
    return 'delivered';
  }

  async #putResult(result: DeviceResult, signal?: AbortSignal): Promise<boolean> {
    const item = {
      ...result,
      stdout: truncate(result.stdout),
      stderr: truncate(result.stderr),
      expiresAt: expiresAtSeconds(RESULT_RETENTION_DAYS),
    };
    try {
      await this.#client.send(
        new PutCommand({
          TableName: tableName(this.#prefix, 'results'),
          Item: item,
          ConditionExpression: 'attribute_not_exists(deviceId)',
        }),
        { abortSignal: signal },
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * The control plane may record the operation just after sending its batches, so a missing
   * operation is waited for briefly; if it never appears the result is withdrawn so that a
   * later delivery counts it.
   */
  async #countResultOnceRecorded(result: DeviceResult, signal?: AbortSignal) {
    for (const delayMs of OPERATION_WAIT_MS) {
      try {
        return await this.#countResult(result, signal);
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      await sleep(delayMs, undefined, { signal });
    }
    await this.#client.send(
      new DeleteCommand({
        TableName: tableName(this.#prefix, 'results'),
        Key: { operationId: result.operationId, deviceId: result.deviceId },
      }),
      { abortSignal: signal },
    );
    throw new Error(`operation ${result.operationId} is not recorded in DynamoDB`);
  }

  async #countResult(result: DeviceResult, signal?: AbortSignal) {
    const output = await this.#client.send(
      new UpdateCommand({
        TableName: tableName(this.#prefix, 'operations'),
        Key: { operationId: result.operationId },
        UpdateExpression: 'ADD counts.#state :one, done :one SET updatedAt = :now',
        ConditionExpression: 'attribute_exists(operationId)',
        ExpressionAttributeNames: { '#state': result.status },
        ExpressionAttributeValues: { ':one': 1, ':now': new Date().toISOString() },
        ReturnValues: 'ALL_NEW',
      }),
      { abortSignal: signal },
    );
    return OperationProgress.parse(output.Attributes);
  }

  /** Moves the operation to InProgress on its first result, to its outcome on its last. */
  async #settleOperation(
    operationId: string,
    progress: OperationProgress,
    signal?: AbortSignal,
  ): Promise<void> {
    const status = decideOperationStatus(progress.counts, progress.total);
    if (status === progress.status || !OPEN_STATUSES.includes(progress.status)) return;
    const now = new Date().toISOString();
    const final = !OPEN_STATUSES.includes(status);
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: tableName(this.#prefix, 'operations'),
          Key: { operationId },
          UpdateExpression: final
            ? 'SET #status = :status, finishedAt = :now, updatedAt = :now'
            : 'SET #status = :status, updatedAt = :now',
          // Never reopen or overwrite a final status (cancel, or a concurrent last result).
          ConditionExpression: final ? '#status IN (:pending, :inProgress)' : '#status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':status': status,
            ':now': now,
            ':pending': 'Pending',
            ...(final ? { ':inProgress': 'InProgress' } : {}),
          },
        }),
        { abortSignal: signal },
      );
      if (final) this.#logger.info({ operationId, status }, 'operation finished');
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** Best effort: the device's last known state; a failure here never fails the delivery. */
  async #touchDevice(result: DeviceResult, signal?: AbortSignal): Promise<void> {
    // A cached answer or an unreachable device says nothing about when the device was seen.
    const seen = result.status !== 'Unreachable' && result.status !== 'Cached';
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: tableName(this.#prefix, 'devices'),
          Key: { deviceId: result.deviceId },
          UpdateExpression: seen
            ? 'SET lastStatus = :status, lastSeenAt = :at'
            : 'SET lastStatus = :status',
          ConditionExpression: 'attribute_exists(deviceId)',
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

function truncate(text: string | undefined): string | undefined {
  if (text === undefined || text.length <= MAX_STORED_OUTPUT_CHARS) return text;
  return text.slice(0, MAX_STORED_OUTPUT_CHARS);
}
