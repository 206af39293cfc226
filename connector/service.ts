import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetQueueAttributesCommand, GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type CloudTimeouts, createDocumentClient, createSqsClient } from '../shared/aws.ts';
import type { Logger } from '../shared/logger.ts';
import { QUEUE_SETTINGS, siteQueueName } from '../shared/queues.ts';
import { Archive } from './archive/index.ts';
import { expiredReason, longPollSeconds } from './batch-policy.ts';
import { BatchWorker } from './batch-worker.ts';
import { MetricsWriter, type ResultDelivery, SiteHealthReporter } from './cloud/index.ts';
import type { ConnectorConfig } from './config.ts';
import { CountedDelivery, CountedWriter, outboxSink } from './counted.ts';
import { DeadLetterWatcher } from './dead-letter-watcher.ts';
import { ConnectorHealth, type HealthReport } from './health.ts';
import { watchCloudClient } from './health-cloud.ts';
import { type HealthServer, startHealthServer } from './health-server.ts';
import { Lifecycle } from './lifecycle.ts';
import { OperationControl } from './operation-control.ts';
import { OutboxSync } from './outbox.ts';
import { type MessageHandler, Poller } from './poller.ts';
import { SiteThrottle } from './throttle.ts';
import type { Transport } from './transport.ts';

export interface ConnectorServiceOptions {
  config: ConnectorConfig;
  transport: Transport;
  logger: Logger;
  /** Visibility each heartbeat restores; default the queue's VisibilityTimeout attribute. */
  visibilityTimeoutSeconds?: number;
  /** Long-poll wait per receive; default a third of the visibility timeout, at most 20 s. */
  waitTimeSeconds?: number;
  /** First outbox retry after a failed round; it doubles up to syncInterval. Default 1000. */
  outboxRetryBaseMs?: number;
  /** Results younger than this are left to in-line delivery by the outbox loop. Default 30 s. */
  outboxInlineGraceMs?: number;
  /** Time between two looks at the site's dead-letter queue. Default 60,000. */
  deadLetterIntervalMs?: number;
}

/** A request into a network that drops packets gives up instead of waiting forever. */
const CLOUD_TIMEOUTS: CloudTimeouts = { connectionTimeoutMs: 5000, requestTimeoutMs: 35_000 };
const START_RETRY_MS = { first: 1000, max: 30_000 };

/** The connector's cloud clients and local store for one run. */
interface Parts {
  sqs: SQSClient;
  documents: DynamoDBDocumentClient;
  archive: Archive;
  outbox: OutboxSync;
}

/**
 * One site's connector: polls the site's queue and runs its batches until stopped, delivers
 * the outbox in the background (also while the cloud is away), and serves health and metrics.
 * `stop` drains (no new device starts, devices in flight finish) and aborts what is left after
 * the config's grace period.
 */
export class ConnectorService {
  readonly lifecycle: Lifecycle;
  readonly throttle: SiteThrottle;
  readonly health: ConnectorHealth;
  readonly #options: ConnectorServiceOptions;
  readonly #stop = new AbortController();
  readonly #abort = new AbortController();
  /** Flushes that must finish before the clients close. */
  readonly #closing: (() => Promise<void>)[] = [];
  #poller: Poller | undefined;
  #archive: Archive | undefined;
  #healthServer: HealthServer | undefined;

  constructor(options: ConnectorServiceOptions) {
    this.#options = options;
    this.lifecycle = new Lifecycle(options.logger);
    this.throttle = new SiteThrottle(options.config.throttleLimit);
    this.health = new ConnectorHealth({
      siteId: options.config.siteId,
      state: () => this.lifecycle.state,
      batchesInFlight: () => this.#poller?.batchesInFlight ?? 0,
      devicesInFlight: () => this.throttle.inFlight,
      devicesWaiting: () => this.throttle.waiting,
      outboxSize: () =>
        this.lifecycle.state === 'stopped' ? 0 : (this.#archive?.outboxSize() ?? 0),
    });
    // Every waiting device and every request in flight listens on these two signals.
    setMaxListeners(0, this.#stop.signal, this.#abort.signal);
  }

  /** Where `GET /health` and `GET /metrics` answer, once `run` has started them. */
  get healthUrl(): string | undefined {
    return this.#healthServer?.url;
  }

  /** Runs until `stop` (or `abort`) and the drain are done; closes the archive and transport. */
  async run(): Promise<void> {
    const { config, transport } = this.#options;
    const parts = this.#parts();
    const background = new AbortController();
    const outboxDone = parts.outbox.run(AbortSignal.any([background.signal, this.#abort.signal]));
    const healthReports = this.#siteHealthReporter(parts).run(background.signal);
    try {
      await this.#startHealthServer();
      const queueUrl =
        config.queueUrl ?? (await this.#retryUntilStopped(() => this.#queueUrl(parts.sqs)));
      if (queueUrl === undefined) return;
      const poller = await this.#pollerFor(parts, queueUrl);
      const deadLetters = this.#deadLetterWatcher(parts, poller).run(this.#stop.signal);
      if (this.lifecycle.state === 'starting') this.lifecycle.moveTo('running');
      await poller.run({ stop: this.#stop.signal, abort: this.#abort.signal });
      await deadLetters;
    } finally {
      background.abort();
      await Promise.all([outboxDone, healthReports]);
      await Promise.all(this.#closing.map((close) => close()));
      await this.#healthServer?.close();
      parts.archive.close();
      await transport.close();
      parts.sqs.destroy();
      parts.documents.destroy();
      if (this.lifecycle.state !== 'draining') this.lifecycle.moveTo('draining');
      this.lifecycle.moveTo('stopped');
    }
  }

  /** Starts draining; devices still in flight after the grace period are aborted. */
  stop(): void {
    if (this.#stop.signal.aborted) {
      this.abort();
      return;
    }
    this.lifecycle.moveTo('draining');
    this.#stop.abort(new Error('the connector is draining'));
    const graceMs = this.#options.config.drainGraceSeconds * 1000;
    setTimeout(() => this.abort(), graceMs).unref();
  }

  /** Abandons every device in flight now; their batches come back to the queue. */
  abort(): void {
    this.#stop.abort(new Error('the connector is draining'));
    this.#abort.abort(new Error('the connector stopped'));
  }

  #parts(): Parts {
    const { config, logger } = this.#options;
    const env = cloudEnv(config);
    const sqs = createSqsClient(env, CLOUD_TIMEOUTS);
    const documents = createDocumentClient(env, CLOUD_TIMEOUTS);
    const archive = new Archive(config.archivePath);
    this.#archive = archive;
    const outbox = new OutboxSync({
      archive,
      delivery: outboxSink(this.#delivery(documents)),
      logger,
      syncIntervalMs: config.syncIntervalSeconds * 1000,
      retryBaseMs: this.#options.outboxRetryBaseMs,
      inlineGraceMs: this.#options.outboxInlineGraceMs,
    });
    const listener = {
      // The first answer after an outage starts an outbox round instead of waiting it out.
      answered: () => {
        this.health.cloudAnswered();
        if (outbox.backingOff) outbox.nudge();
      },
      unreachable: () => this.health.cloudUnreachable(),
    };
    watchCloudClient(sqs, listener);
    watchCloudClient(documents, listener);
    return { sqs, documents, archive, outbox };
  }

  /** Last seen and version on the site's item, while the connector runs (also when draining). */
  #siteHealthReporter(parts: Parts): SiteHealthReporter {
    const { config, logger } = this.#options;
    return new SiteHealthReporter({
      client: parts.documents,
      prefix: config.prefix,
      siteId: config.siteId,
      logger,
      intervalMs: config.healthReportSeconds * 1000,
      offline: () => cloudAway(this.health.report()),
    });
  }

  #delivery(documents: DynamoDBDocumentClient): ResultDelivery {
    const { config, logger } = this.#options;
    const control = this.#control(documents);
    return new CountedDelivery(this.health, {
      client: documents,
      prefix: config.prefix,
      logger,
      onProgress: (operationId, progress) => control.observe(operationId, progress),
    });
  }

  #controlFor: OperationControl | undefined;

  /** One OperationControl per run, shared by the batch worker and the deliveries it observes. */
  #control(documents: DynamoDBDocumentClient): OperationControl {
    const { config, logger } = this.#options;
    this.#controlFor ??= new OperationControl({ client: documents, prefix: config.prefix, logger });
    return this.#controlFor;
  }

  async #pollerFor(parts: Parts, queueUrl: string): Promise<Poller> {
    const { config, logger, transport } = this.#options;
    const { sqs, documents, archive, outbox } = parts;
    const visibilityTimeoutSeconds = await this.#visibilityTimeoutSeconds(sqs, queueUrl);
    const metrics = new MetricsWriter({ client: documents, prefix: config.prefix, logger });
    this.#closing.push(() => metrics.close());
    const worker = new BatchWorker({
      metrics,
      siteId: config.siteId,
      sqs,
      queueUrl,
      archive,
      writer: new CountedWriter(this.health, archive),
      delivery: this.#delivery(documents),
      control: this.#control(documents),
      transport,
      throttle: this.throttle,
      logger,
      defaultTimeoutSeconds: config.defaultTimeoutSeconds,
      visibilityTimeoutSeconds,
      expiredReason: (batch) => expiredReason(config, batch),
      outbox,
    });
    this.#poller = new Poller({
      sqs,
      queueUrl,
      handler: this.#counted(worker),
      logger,
      maxBatchesInFlight: config.maxBatchesInFlight,
      waitTimeSeconds: this.#options.waitTimeSeconds ?? longPollSeconds(visibilityTimeoutSeconds),
    });
    return this.#poller;
  }

  /** Finishes the site's dead-lettered batches; it leaves alone the batches the poller holds. */
  #deadLetterWatcher(parts: Parts, poller: Poller): DeadLetterWatcher {
    const { config, logger } = this.#options;
    return new DeadLetterWatcher({
      siteId: config.siteId,
      prefix: config.prefix,
      sqs: parts.sqs,
      archive: parts.archive,
      writer: new CountedWriter(this.health, parts.archive),
      delivery: this.#delivery(parts.documents),
      logger,
      holds: (operationId, batchId) => poller.holds(operationId, batchId),
      intervalMs: this.#options.deadLetterIntervalMs,
    });
  }

  #counted(worker: BatchWorker): MessageHandler {
    const health = this.health;
    return {
      async process(message, signals) {
        try {
          const outcome = await worker.process(message, signals);
          health.batchSettled(outcome);
          return outcome;
        } catch (error) {
          health.batchSettled('failed');
          throw error;
        }
      },
    };
  }

  async #startHealthServer(): Promise<void> {
    const { config, logger } = this.#options;
    if (config.healthPort === undefined) return;
    this.#healthServer = await startHealthServer({
      health: this.health,
      host: config.healthHost,
      port: config.healthPort,
      logger,
    });
  }

  /**
   * Retries a start-up call while the cloud is unreachable (the connector may start during an
   * outage), with back-off; undefined when the connector is stopped first.
   */
  async #retryUntilStopped<T>(call: () => Promise<T>): Promise<T | undefined> {
    let delayMs = START_RETRY_MS.first;
    while (!this.#stop.signal.aborted) {
      try {
        return await call();
      } catch (error) {
        if (this.#stop.signal.aborted) break;
        this.#options.logger.warn({ err: error, retryInMs: delayMs }, 'start-up call failed');
        await sleep(delayMs, undefined, { signal: this.#stop.signal }).catch(() => {});
        delayMs = Math.min(delayMs * 2, START_RETRY_MS.max);
      }
    }
    return undefined;
  }

  async #queueUrl(sqs: SQSClient): Promise<string> {
    const { config } = this.#options;
    const name = siteQueueName(config.prefix, config.siteId);
    const output = await sqs.send(new GetQueueUrlCommand({ QueueName: name }), {
      abortSignal: this.#stop.signal,
    });
    if (!output.QueueUrl) throw new Error(`GetQueueUrl for ${name} returned no queue URL`);
    return output.QueueUrl;
  }

  /** The queue's own VisibilityTimeout, so that heartbeats keep exactly what a receive gave. */
  async #visibilityTimeoutSeconds(sqs: SQSClient, queueUrl: string): Promise<number> {
    if (this.#options.visibilityTimeoutSeconds !== undefined) {
      return this.#options.visibilityTimeoutSeconds;
    }
    try {
      const output = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['VisibilityTimeout'],
        }),
        { abortSignal: AbortSignal.any([this.#stop.signal, AbortSignal.timeout(10_000)]) },
      );
      const seconds = Number(output.Attributes?.VisibilityTimeout);
      if (Number.isInteger(seconds) && seconds > 0) return seconds;
    } catch (error) {
      this.#options.logger.warn({ err: error }, 'queue visibility timeout not read');
    }
    return QUEUE_SETTINGS.visibilityTimeoutSeconds;
  }
}

/** The last call to the cloud got no answer: reports wait for the next answer. */
function cloudAway(report: HealthReport): boolean {
  const { lastCloudErrorAt, lastCloudContactAt } = report;
  if (lastCloudErrorAt === null) return false;
  return lastCloudContactAt === null || lastCloudErrorAt > lastCloudContactAt;
}

function cloudEnv(config: ConnectorConfig) {
  return {
    WINFLEET_PREFIX: config.prefix,
    AWS_REGION: config.region,
    WINFLEET_DYNAMODB_ENDPOINT: config.dynamodbEndpoint,
    WINFLEET_SQS_ENDPOINT: config.sqsEndpoint,
  };
}
