import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { DeviceResult } from '../shared/schemas/result.ts';
import type { BatchOutcome } from './batch-worker.ts';
import type { LifecycleState } from './lifecycle.ts';

/** What the health endpoint reads when asked; each a cheap call on a live object. */
export interface HealthSources {
  siteId: string;
  state: () => LifecycleState;
  batchesInFlight: () => number;
  devicesInFlight: () => number;
  devicesWaiting: () => number;
  outboxSize: () => number;
}

/** The body of `GET /health`. */
export interface HealthReport {
  siteId: string;
  state: LifecycleState;
  queue: { batchesInFlight: number; devicesInFlight: number; devicesWaiting: number };
  outboxSize: number;
  /** When SQS or DynamoDB last answered, ISO 8601; null before the first answer. */
  lastCloudContactAt: string | null;
  /** When a call to SQS or DynamoDB last failed without an answer; null if none did. */
  lastCloudErrorAt: string | null;
}

const PREFIX = 'winfleet_connector_';

/**
 * The connector's health and Prometheus metrics: counters fed by the service as devices
 * finish, batches settle and deliveries fail, gauges read from live objects when scraped.
 */
export class ConnectorHealth {
  readonly registry = new Registry();
  readonly #sources: HealthSources;
  readonly #devices: Counter<'state'>;
  readonly #batches: Counter<'outcome'>;
  readonly #deliveryErrors: Counter;
  #lastContact: Date | undefined;
  #lastError: Date | undefined;

  constructor(sources: HealthSources) {
    this.#sources = sources;
    const registers = [this.registry];
    this.registry.setDefaultLabels({ siteId: sources.siteId });
    collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
    this.#devices = new Counter({
      name: `${PREFIX}devices_total`,
      help: 'Devices that reached a final state here, by state',
      labelNames: ['state'],
      registers,
    });
    this.#batches = new Counter({
      name: `${PREFIX}batches_total`,
      help: 'Batches (SQS messages) handled, by outcome: deleted, kept, malformed, failed',
      labelNames: ['outcome'],
      registers,
    });
    this.#deliveryErrors = new Counter({
      name: `${PREFIX}delivery_errors_total`,
      help: 'Result deliveries to DynamoDB that failed (the result stays in the outbox)',
      registers,
    });
    this.#gauges(registers);
  }

  #gauges(registers: Registry[]): void {
    const sources = this.#sources;
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name: `${PREFIX}${name}`,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    gauge('devices_in_flight', 'Devices running now', sources.devicesInFlight);
    gauge('devices_waiting', 'Devices waiting for a throttle slot', sources.devicesWaiting);
    gauge('batches_in_flight', 'Batches (SQS messages) in hand', sources.batchesInFlight);
    gauge('outbox_size', 'Archived results not yet delivered to the cloud', sources.outboxSize);
    gauge('last_cloud_contact_seconds', 'Unix time SQS or DynamoDB last answered', () =>
      this.#lastContact ? this.#lastContact.getTime() / 1000 : 0,
    );
    gauge('up', '1 while the connector is running, 0 otherwise', () =>
      sources.state() === 'running' ? 1 : 0,
    );
  }

  deviceFinished(result: Pick<DeviceResult, 'status'>): void {
    this.#devices.inc({ state: result.status });
  }

  batchSettled(outcome: BatchOutcome | 'failed'): void {
    this.#batches.inc({ outcome });
  }

  deliveryFailed(): void {
    this.#deliveryErrors.inc();
  }

  /** SQS or DynamoDB answered (a service error is an answer too). */
  cloudAnswered(at = new Date()): void {
    this.#lastContact = at;
  }

  /** A call to SQS or DynamoDB got no answer (network, DNS, timeout). */
  cloudUnreachable(at = new Date()): void {
    this.#lastError = at;
  }

  report(): HealthReport {
    const s = this.#sources;
    return {
      siteId: s.siteId,
      state: s.state(),
      queue: {
        batchesInFlight: s.batchesInFlight(),
        devicesInFlight: s.devicesInFlight(),
        devicesWaiting: s.devicesWaiting(),
      },
      outboxSize: s.outboxSize(),
      lastCloudContactAt: this.#lastContact?.toISOString() ?? null,
      lastCloudErrorAt: this.#lastError?.toISOString() ?? null,
    };
  }
}
