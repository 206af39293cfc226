import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../shared/logger.ts';
import type { DeviceResult } from '../shared/schemas/result.ts';
import type { Archive, ResultKey } from './archive/index.ts';

/**
 * What delivers results to the cloud (`ResultDelivery` in production, adapted by the service).
 * Called with the results of one batch at a time; resolves only when the cloud has them all.
 */
export interface ResultSink {
  deliver(results: readonly DeviceResult[], signal: AbortSignal): Promise<void>;
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
   * Results younger than this are left to the batch worker's own delivery (it delivers a
   * running batch's results every few seconds), unless a held batch waits for them, so that
   * one result is not delivered twice at once. Default 30,000.
   */
  inlineGraceMs?: number;
  /** Results read per round. Default 200. */
  pageSize?: number;
  /** Batches delivered at once. Default 4. */
  concurrency?: number;
  /** Told after each round: how many were delivered and whether the cloud refused one. */
  onRound?: (round: OutboxRound) => void;
}

export interface OutboxRound {
  delivered: number;
  failed: boolean;
  /** After a failed round: how long the loop waits before the next one. */
  retryInMs?: number;
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
  /** Results a held batch waits for: its own delivery is over, so no grace applies to them. */
  readonly #awaited = new Map<string, number>();

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
    if (state !== 'waiting') return state === 'delivered';
    this.#await(keys, 1);
    try {
      // While the loop backs off it keeps its pace: many waiting batches must not hammer a
      // cloud that is down.
      if (this.#failures === 0) this.nudge();
      while (state === 'waiting' && !signal.aborted) {
        await this.#nextNotice(signal);
        state = this.#deliveryState(keys);
      }
      return state === 'delivered';
    } finally {
      this.#await(keys, -1);
    }
  }

  #await(keys: readonly ResultKey[], change: 1 | -1): void {
    for (const key of keys) {
      const id = keyId(key);
      const count = (this.#awaited.get(id) ?? 0) + change;
      if (count > 0) this.#awaited.set(id, count);
      else this.#awaited.delete(id);
    }
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
    const queue = groupByBatch(page);
    const worker = async () => {
      for (let group = queue.shift(); group && !failed; group = queue.shift()) {
        if (await this.#deliverGroup(group, signal)) delivered += group.length;
        else failed = true;
      }
    };
    await Promise.all(Array.from({ length: this.#options.concurrency ?? 4 }, worker));
    this.#failures = failed ? this.#failures + 1 : 0;
    const retryInMs = failed ? this.#retryDelayMs() : undefined;
    if (delivered > 0 || failed) {
      const outboxSize = archive.outboxSize();
      logger.info({ delivered, failed, retryInMs, outboxSize }, 'outbox round');
    }
    this.#options.onRound?.({ delivered, failed, ...(failed ? { retryInMs } : {}) });
    this.#notify();
    return { delivered, failed, youngLeft, moreWaiting: full && delivered > 0 };
  }

  async #deliverGroup(results: DeviceResult[], signal: AbortSignal): Promise<boolean> {
    try {
      await this.#options.delivery.deliver(results, signal);
      this.#options.archive.markDelivered(results);
      return true;
    } catch (error) {
      if (!signal.aborted) {
        const first = results[0];
        const where = { operationId: first?.operationId, batchId: first?.batchId };
        this.#options.logger.warn({ err: error, ...where }, 'outbox delivery failed');
      }
      return false;
    }
  }

  /** The oldest page of the outbox, less results too young to be the loop's to deliver. */
  #eligible(): { page: DeviceResult[]; youngLeft: boolean; full: boolean } {
    const before = new Date(Date.now() - this.#graceMs()).toISOString();
    const rows = this.#options.archive.outbox(this.#pageSize()).map((a) => a.result);
    const page = rows.filter((r) => r.finishedAt <= before || this.#awaited.has(keyId(r)));
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
    return this.#options.inlineGraceMs ?? 30_000;
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

/** The results of one batch go together: the cloud stores a batch's results as one item. */
function groupByBatch(results: readonly DeviceResult[]): DeviceResult[][] {
  const groups = new Map<string, DeviceResult[]>();
  for (const result of results) {
    const key = `${result.operationId}\n${result.batchId}`;
    const group = groups.get(key);
    if (group) group.push(result);
    else groups.set(key, [result]);
  }
  return [...groups.values()];
}

function keyId(key: ResultKey): string {
  return `${key.operationId}\n${key.deviceId}`;
}
