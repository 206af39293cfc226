import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '../shared/logger.ts';
import type { BatchMessage } from '../shared/schemas/batch.ts';
import { tableName } from '../shared/tables.ts';
import type { OperationProgress } from './cloud/index.ts';

/** States that count against an operation's `maxErrors`. */
const ERROR_STATES = ['Failed', 'TimedOut', 'Unreachable'];

export interface OperationControlOptions {
  client: DynamoDBDocumentClient;
  prefix: string;
  logger: Logger;
  /** How often the status of each operation in hand is read, to notice a cancel. Default 3000. */
  pollIntervalMs?: number;
}

interface Tracked {
  batches: number;
  /** The error count past which the rest is cancelled; undefined for no limit. */
  maxErrors: number | undefined;
  /** Errors seen here, before DynamoDB has counted them. */
  localErrors: number;
  cancelled?: string;
}

/**
 * Knows which operations in hand must start no more devices: those cancelled through the API
 * (read from DynamoDB every few seconds and from every counted result) and those past their
 * `maxErrors`, counted over the whole operation at every site.
 */
export class OperationControl {
  readonly #options: OperationControlOptions;
  readonly #operations = new Map<string, Tracked>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: OperationControlOptions) {
    this.#options = options;
  }

  /** Watches an operation while one of its batches runs; call the returned function after. */
  track(batch: BatchMessage): () => void {
    const tracked = this.#operations.get(batch.operationId) ?? {
      batches: 0,
      maxErrors: errorLimit(batch.rateControl.maxErrors, batch.operationTotal),
      localErrors: 0,
    };
    tracked.batches += 1;
    this.#operations.set(batch.operationId, tracked);
    this.#timer ??= setInterval(() => void this.#poll(), this.#options.pollIntervalMs ?? 3000);
    this.#timer.unref();
    return () => this.#untrack(batch.operationId);
  }

  /** Why devices of this operation must not start, or undefined when they may. */
  cancelledReason(operationId: string): string | undefined {
    return this.#operations.get(operationId)?.cancelled;
  }

  /** Takes in the operation's counts and status after a counted result. */
  observe(operationId: string, progress: OperationProgress): void {
    const tracked = this.#operations.get(operationId);
    if (!tracked || tracked.cancelled) return;
    if (progress.status === 'Cancelled') {
      this.#cancel(operationId, 'the operation was cancelled');
      return;
    }
    const errors = ERROR_STATES.reduce((n, state) => n + (progress.counts[state] ?? 0), 0);
    this.#checkErrors(operationId, tracked, errors);
  }

  /**
   * Takes in a device's state as soon as it is known here, so that the next device of the
   * operation sees it before the result has even been delivered.
   */
  record(operationId: string, state: string): void {
    const tracked = this.#operations.get(operationId);
    if (!tracked || !ERROR_STATES.includes(state)) return;
    tracked.localErrors += 1;
    this.#checkErrors(operationId, tracked, 0);
  }

  /** Cancels past maxErrors; the cloud's count covers every site, the local one is fresher. */
  #checkErrors(operationId: string, tracked: Tracked, cloudErrors: number): void {
    const errors = Math.max(cloudErrors, tracked.localErrors);
    if (tracked.maxErrors !== undefined && errors > tracked.maxErrors) {
      this.#cancel(operationId, `more than ${tracked.maxErrors} devices failed (maxErrors)`);
    }
  }

  #cancel(operationId: string, reason: string): void {
    const tracked = this.#operations.get(operationId);
    if (!tracked || tracked.cancelled) return;
    tracked.cancelled = reason;
    this.#options.logger.info({ operationId, reason }, 'operation cancelled');
  }

  #untrack(operationId: string): void {
    const tracked = this.#operations.get(operationId);
    if (!tracked) return;
    tracked.batches -= 1;
    if (tracked.batches > 0) return;
    this.#operations.delete(operationId);
    if (this.#operations.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  async #poll(): Promise<void> {
    const open = [...this.#operations].filter(([, t]) => !t.cancelled).map(([id]) => id);
    await Promise.all(open.map((operationId) => this.#checkStatus(operationId)));
  }

  async #checkStatus(operationId: string): Promise<void> {
    const { client, prefix, logger } = this.#options;
    try {
      const out = await client.send(
        new GetCommand({
          TableName: tableName(prefix, 'operations'),
          Key: { operationId },
          ProjectionExpression: '#status',
          ExpressionAttributeNames: { '#status': 'status' },
        }),
      );
      if (out.Item?.status === 'Cancelled')
        this.#cancel(operationId, 'the operation was cancelled');
    } catch (error) {
      logger.warn({ err: error, operationId }, 'operation status not read');
    }
  }
}

/** `maxErrors` as a device count: a number as is, a percentage of the operation's devices. */
export function errorLimit(
  maxErrors: number | string | undefined,
  operationTotal: number,
): number | undefined {
  if (maxErrors === undefined) return undefined;
  if (typeof maxErrors === 'number') return maxErrors;
  return Math.floor((operationTotal * Number.parseInt(maxErrors, 10)) / 100);
}
