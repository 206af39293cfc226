import type { DeviceResult } from '../shared/schemas/result.ts';
import { type Archive, ArchiveWriter } from './archive/index.ts';
import { ResultDelivery, type ResultDeliveryOptions } from './cloud/index.ts';
import type { ConnectorHealth } from './health.ts';
import type { ResultSink } from './outbox.ts';

/** The outbox's view of the delivery: one batch's results at a time, all or nothing. */
export function outboxSink(delivery: ResultDelivery): ResultSink {
  return {
    async deliver(results, signal) {
      await delivery.deliverResults(results, { signal });
    },
  };
}

/** Counts failed deliveries for the metrics; the result stays in the outbox either way. */
export class CountedDelivery extends ResultDelivery {
  readonly #health: ConnectorHealth;

  constructor(health: ConnectorHealth, options: ResultDeliveryOptions) {
    super(options);
    this.#health = health;
  }

  override async deliver(result: DeviceResult, signal?: AbortSignal) {
    try {
      return await super.deliver(result, signal);
    } catch (error) {
      if (!signal?.aborted) this.#health.deliveryFailed();
      throw error;
    }
  }
}

/** The archive writer, counting each device's final state for the metrics. */
export class CountedWriter extends ArchiveWriter {
  readonly #health: ConnectorHealth;

  constructor(health: ConnectorHealth, archive: Archive) {
    super(archive);
    this.#health = health;
  }

  override write(result: DeviceResult): Promise<void> {
    this.#health.deviceFinished(result);
    return super.write(result);
  }
}
