import type { Logger } from '../shared/logger.ts';
import type { BatchMessage } from '../shared/schemas/batch.ts';
import type { DeviceResult, DeviceState } from '../shared/schemas/result.ts';
import type { Archive } from './archive/index.ts';
import type { MetricsWriter, ResultDelivery } from './cloud/index.ts';
import { ERROR_STATES } from './operation-control.ts';

export interface BatchResultsOptions {
  batch: BatchMessage;
  delivery: ResultDelivery;
  archive: Archive;
  metrics?: MetricsWriter;
  logger: Logger;
  /** Aborts a delivery in flight (the connector must quit now). */
  signal: AbortSignal;
  /** While the batch runs, results are delivered this often; the rest when it ends. */
  progressIntervalMs: number;
}

/**
 * Collects a batch's archived results and delivers them in one write per flush rather than
 * one per device: every `progressIntervalMs` while the batch runs (so progress shows on long
 * batches) and once when it ends. A delivered result leaves the outbox; a failed delivery
 * leaves it there, and the batch's message is then not deleted.
 */
export class BatchResults {
  readonly #options: BatchResultsOptions;
  readonly #previousStatus: ReadonlyMap<string, DeviceState | undefined>;
  #pending: DeviceResult[] = [];
  #flushing: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: BatchResultsOptions) {
    this.#options = options;
    this.#previousStatus = new Map(options.batch.devices.map((d) => [d.deviceId, d.lastStatus]));
  }

  /**
   * Takes in archived results not yet delivered; starts the periodic flush on the first. When
   * the operation sets maxErrors a failure is delivered at once, so that the other sites'
   * connectors, which read the operation's counts after each delivery, see it.
   */
  add(...results: DeviceResult[]): void {
    this.#pending.push(...results);
    this.#timer ??= setInterval(() => void this.flush(), this.#options.progressIntervalMs);
    this.#timer.unref();
    const limited = this.#options.batch.rateControl.maxErrors !== undefined;
    if (limited && results.some((r) => ERROR_STATES.includes(r.status))) void this.flush();
  }

  /** Delivers what is pending now; flushes run one after another. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#deliverPending());
    return this.#flushing;
  }

  /** Stops the periodic flush and delivers the rest. */
  async finish(): Promise<void> {
    this.stop();
    await this.flush();
  }

  /** Stops the periodic flush; what is pending stays in the outbox. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #deliverPending(): Promise<void> {
    const { delivery, archive, metrics, logger, signal } = this.#options;
    if (this.#pending.length === 0 || signal.aborted) return;
    const results = this.#pending;
    this.#pending = [];
    try {
      const outcome = await delivery.deliverResults(results, {
        signal,
        previousStatus: this.#previousStatus,
      });
      archive.markDelivered(results);
      for (const batch of outcome.batches) metrics?.write({ ...batch.ref, ...batch });
      logger.debug(
        { delivered: outcome.delivered, duplicate: outcome.duplicate },
        'results delivered',
      );
    } catch (error) {
      if (!signal.aborted)
        logger.warn({ err: error, results: results.length }, 'results kept in the outbox');
    }
  }
}
