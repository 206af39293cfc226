import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../shared/logger.ts';
import type { DeviceResult } from '../shared/schemas/result.ts';
import type { Archive, ResultKey } from './archive/index.ts';

/** What delivers one result to the cloud; `ResultDelivery` in production. */
export interface ResultSink {
  deliver(result: DeviceResult, signal?: AbortSignal): Promise<unknown>;
}

export interface OutboxSyncOptions {
  archive: Archive;
  delivery: ResultSink;
  logger: Logger;
  /** The site's syncInterval: the longest wait between two rounds, in milliseconds. */
  syncIntervalMs: number;
  /** Wait after the first failed round; it doubles per failure up to syncIntervalMs. 1000. */
  retryBaseMs?: number;
  /**
   * Results younger than this are left to the batch worker's own delivery, so that one result
   * is not delivered twice at once. Default 10,000.
   */
  inlineGraceMs?: number;
  /** Results read per round. Default 200. */
  pageSize?: number;
  /** Deliveries in flight at once. Default 8. */
  concurrency?: number;
  /** Told after each round: how many were delivered and whether the cloud refused one. */
  onRound?: (round: OutboxRound) => void;
}

export interface OutboxRound {
  delivered: number;
  failed: boolean;
}

/** A round as the loop sees it: whether to go on at once or wait, and how long. */
type OutboxPass = OutboxRound & { youngLeft: boolean; moreWaiting: boolean };

/**
 * The outbox loop: delivers archived results the cloud has not accepted yet (the cloud was
 * unreachable, or the connector died between archiving and delivering). It runs every
 * syncInterval, and after a failed round backs off exponentially, capped at syncInterval.
 * `nudge` starts a round now, e.g. when another call shows the cloud is back.
 */
export class OutboxSync {
  readonly #options: OutboxSyncOptions;
  /** Set while the loop waits between rounds; a nudge aborts it. */
  #pausing: AbortController | undefined;
  #failures = 0;
  readonly #waiters = new Set<() => void>();

  constructor(options: OutboxSyncOptions) {
    this.#options = options;
  }

  /** Results waiting in the outbox now. */
  get size(): number {
    return this.#options.archive.outboxSize();
  }

  /** Whether the last round failed: the loop is backing off until the cloud answers again. */
  get backingOff(): boolean {
    return this.#failures > 0;
  }

  /** Ends the wait between rounds now; a nudge during a round changes nothing. */
  nudge(): void {
    this.#pausing?.abort();
  }

  /** Runs rounds until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const round = await this.deliverOnce(signal);
      if (signal.aborted) break;
      if (round.moreWaiting && !round.failed) continue;
      await this.#pause(this.#nextRoundInMs(round), signal);
    }
    this.#notify();
  }

  /**
   * Resolves true once every key's result is delivered. Resolves false at once when a key has
   * no archived result (only a redelivery of its batch can produce it), or when `signal`
   * aborts first. Checked after each round of the loop; an idle loop starts a round for it.
   */
  async waitForDelivery(keys: readonly ResultKey[], signal: AbortSignal): Promise<boolean> {
    let state = this.#deliveryState(keys);
    // While the loop backs off it keeps its pace: many waiting batches must not hammer a cloud
    // that is down.
    if (state === 'waiting' && this.#failures === 0) this.nudge();
    while (state === 'waiting' && !signal.aborted) {
      await this.#nextNotice(signal);
      state = this.#deliveryState(keys);
    }
    return state === 'delivered';
  }

  #nextNotice(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.#waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.#waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** One round: delivers up to a page of results; stops at the first the cloud refuses. */
  async deliverOnce(signal: AbortSignal): Promise<OutboxPass> {
    const { archive, logger } = this.#options;
    const { page, youngLeft, full } = this.#eligible();
    let delivered = 0;
    let failed = false;
    const queue = [...page];
    const worker = async () => {
      for (let result = queue.shift(); result && !failed; result = queue.shift()) {
        if (await this.#deliverOne(result, signal)) delivered += 1;
        else failed = true;
      }
    };
    await Promise.all(Array.from({ length: this.#options.concurrency ?? 8 }, worker));
    this.#failures = failed ? this.#failures + 1 : 0;
    if (delivered > 0 || failed) {
      logger.info({ delivered, failed, outboxSize: archive.outboxSize() }, 'outbox round');
    }
    this.#options.onRound?.({ delivered, failed });
    this.#notify();
    return { delivered, failed, youngLeft, moreWaiting: full && delivered > 0 };
  }

  async #deliverOne(result: DeviceResult, signal: AbortSignal): Promise<boolean> {
    try {
      await this.#options.delivery.deliver(result, signal);
      this.#options.archive.markDelivered([result]);
      return true;
    } catch (error) {
      if (!signal.aborted) {
        const { operationId, deviceId } = result;
        this.#options.logger.warn({ err: error, operationId, deviceId }, 'outbox delivery failed');
      }
      return false;
    }
  }

  /** The oldest page of the outbox, less results too young to be the loop's to deliver. */
  #eligible(): { page: DeviceResult[]; youngLeft: boolean; full: boolean } {
    const before = new Date(Date.now() - this.#graceMs()).toISOString();
    const rows = this.#options.archive.outbox(this.#pageSize()).map((a) => a.result);
    const page = rows.filter((result) => result.finishedAt <= before);
    return { page, youngLeft: page.length < rows.length, full: rows.length === this.#pageSize() };
  }

  #deliveryState(keys: readonly ResultKey[]): 'delivered' | 'waiting' | 'missing' {
    const byOperation = new Map<string, string[]>();
    for (const key of keys) {
      byOperation.set(key.operationId, [...(byOperation.get(key.operationId) ?? []), key.deviceId]);
    }
    let state: 'delivered' | 'waiting' = 'delivered';
    for (const [operationId, deviceIds] of byOperation) {
      const archived = this.#options.archive.finalResultsFor(operationId, deviceIds);
      if (archived.length < new Set(deviceIds).size) return 'missing';
      if (archived.some((a) => !a.deliveredAt)) state = 'waiting';
    }
    return state;
  }

  /** After a failure: back-off; with results left to the batch worker: its grace; else idle. */
  #nextRoundInMs(round: OutboxPass): number {
    const { syncIntervalMs } = this.#options;
    if (round.failed) return this.#retryDelayMs();
    if (round.youngLeft) return Math.min(this.#graceMs(), syncIntervalMs);
    return syncIntervalMs;
  }

  #graceMs(): number {
    return this.#options.inlineGraceMs ?? 10_000;
  }

  #retryDelayMs(): number {
    const baseMs = this.#options.retryBaseMs ?? 1000;
    const delayMs = baseMs * 2 ** Math.min(this.#failures - 1, 30);
    return Math.min(delayMs, this.#options.syncIntervalMs);
  }

  #pageSize(): number {
    return this.#options.pageSize ?? 200;
  }

  async #pause(ms: number, signal: AbortSignal): Promise<void> {
    this.#pausing = new AbortController();
    const either = AbortSignal.any([signal, this.#pausing.signal]);
    await sleep(ms, undefined, { signal: either }).catch(() => {});
    this.#pausing = undefined;
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}
