import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '../shared/logger.ts';
import type { BatchMessage } from '../shared/schemas/batch.ts';
import { tableName } from '../shared/tables.ts';
import type { OperationProgress } from './cloud/index.ts';

/** States that count against an operation's `maxErrors`. */
export const ERROR_STATES: readonly string[] = ['Failed', 'TimedOut', 'Unreachable'];

export interface OperationControlOptions {
  client: DynamoDBDocumentClient;
  prefix: string;
  logger: Logger;
  /** How often the status of each operation in hand is read, to notice a cancel. Default 3000. */
  pollIntervalMs?: number;
}

interface Tracked {
  batches: number;
  /** The operation's error count past which the rest is cancelled; undefined for no limit. */
  maxErrors: number | undefined;
  /** This site's share of it (the batch's siteMaxErrors), else the operation's limit. */
  siteMaxErrors: number | undefined;
  /** Errors seen here, before DynamoDB has counted them. */
  localErrors: number;
  cancelled?: string;
  /** When the operation's status was last read (epoch ms), and the read in flight. */
  checkedAtMs: number;
  checking?: Promise<void>;
}

/**
 * Knows which operations in hand must start no more devices: those cancelled through the API
 * (read from DynamoDB when a batch arrives, before a device starts if the last read is older
 * than `statusMaxAgeMs`, and every few seconds) and those past `maxErrors`.
 *
 * The bound on errors holds across sites without a transaction. Each batch carries its site's
 * share of maxErrors (`siteMaxErrors`; the shares add up to at most maxErrors), and the site
 * starts no more devices once more than its share have failed here. Each connector also takes
 * in the operation's counts at every site whenever it delivers a result (failures are delivered
 * at once, see BatchResults), and stops once more than maxErrors have failed in all. So, with
 * one connector per site, an operation ends with at most `maxErrors + sites × throttleLimit`
 * error results (Failed, TimedOut, Unreachable): each site's share, plus the one that crossed
 * it and the devices already in flight then. Unstarted devices end Cancelled.
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
    const maxErrors = errorLimit(batch.rateControl.maxErrors, batch.operationTotal);
    const tracked = this.#operations.get(batch.operationId) ?? {
      batches: 0,
      maxErrors,
      siteMaxErrors: batch.siteMaxErrors ?? maxErrors,
      localErrors: 0,
      checkedAtMs: 0,
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
    if (tracked.maxErrors !== undefined && errors > tracked.maxErrors) {
      this.#cancel(operationId, `more than ${tracked.maxErrors} devices failed (maxErrors)`);
    }
  }

  /**
   * Reads the operation's status unless it was read less than `maxAgeMs` ago; one read at a
   * time per operation, which concurrent callers share. Never throws: a failed read is logged.
   */
  async refresh(operationId: string, maxAgeMs: number): Promise<void> {
    const tracked = this.#operations.get(operationId);
    if (!tracked || tracked.cancelled) return;
    if (tracked.checking) return tracked.checking;
    if (Date.now() - tracked.checkedAtMs < maxAgeMs) return;
    tracked.checking = this.#checkStatus(operationId).finally(() => {
      tracked.checkedAtMs = Date.now();
      tracked.checking = undefined;
    });
    return tracked.checking;
  }

  /**
   * Takes in a device's state as soon as it is known here, so that the next device of the
   * operation sees it before the result has even been delivered.
   */
  record(operationId: string, state: string): void {
    const tracked = this.#operations.get(operationId);
    if (!tracked || !ERROR_STATES.includes(state)) return;
    tracked.localErrors += 1;
    const share = tracked.siteMaxErrors;
    if (share !== undefined && tracked.localErrors > share) {
      this.#cancel(
        operationId,
        `more than ${share} devices failed at this site (its maxErrors share)`,
      );
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
    await Promise.all(open.map((operationId) => this.refresh(operationId, 0)));
  }

  async #checkStatus(operationId: string): Promise<void> {
    const { client, prefix, logger } = this.#options;
    try {
      const out = await client.send(
        new GetCommand({
          TableName: tableName(prefix, 'operations'),
          Key: { operationId },
          // A cancel just before the batch arrived must be seen.
          ConsistentRead: true,
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
