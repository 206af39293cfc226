import { setMaxListeners } from 'node:events';
import { GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createDocumentClient, createSqsClient } from '../shared/aws.ts';
import type { Logger } from '../shared/logger.ts';
import { siteQueueName } from '../shared/queues.ts';
import { Archive, ArchiveWriter } from './archive/index.ts';
import { BatchWorker } from './batch-worker.ts';
import { MetricsWriter, ResultDelivery } from './cloud/index.ts';
import type { ConnectorConfig } from './config.ts';
import { Lifecycle } from './lifecycle.ts';
import { OperationControl } from './operation-control.ts';
import { Poller } from './poller.ts';
import { SiteThrottle } from './throttle.ts';
import type { Transport } from './transport.ts';

export interface ConnectorServiceOptions {
  config: ConnectorConfig;
  transport: Transport;
  logger: Logger;
  /** Visibility each heartbeat restores; default the queue's setting. */
  visibilityTimeoutSeconds?: number;
  /** Long-poll wait per receive; default 20 s. */
  waitTimeSeconds?: number;
}

/**
 * One site's connector: polls the site's queue and runs its batches until stopped. `stop`
 * drains (no new device starts, devices in flight finish) and aborts what is left after the
 * config's grace period.
 */
export class ConnectorService {
  readonly lifecycle: Lifecycle;
  readonly throttle: SiteThrottle;
  readonly #options: ConnectorServiceOptions;
  readonly #stop = new AbortController();
  readonly #abort = new AbortController();
  /** Flushes that must finish before the clients close. */
  readonly #closing: (() => Promise<void>)[] = [];

  constructor(options: ConnectorServiceOptions) {
    this.#options = options;
    this.lifecycle = new Lifecycle(options.logger);
    this.throttle = new SiteThrottle(options.config.throttleLimit);
    // Every waiting device and every request in flight listens on these two signals.
    setMaxListeners(0, this.#stop.signal, this.#abort.signal);
  }

  /** Runs until `stop` (or `abort`) and the drain are done; closes the archive and transport. */
  async run(): Promise<void> {
    const { config, transport } = this.#options;
    const sqs = createSqsClient(cloudEnv(config));
    const documents = createDocumentClient(cloudEnv(config));
    const archive = new Archive(config.archivePath);
    try {
      const queueUrl = config.queueUrl ?? (await this.#queueUrl(sqs));
      const poller = this.#poller(sqs, queueUrl, archive, documents);
      if (this.lifecycle.state === 'starting') this.lifecycle.moveTo('running');
      await poller.run({ stop: this.#stop.signal, abort: this.#abort.signal });
    } finally {
      await Promise.all(this.#closing.map((close) => close()));
      archive.close();
      await transport.close();
      sqs.destroy();
      documents.destroy();
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

  #poller(
    sqs: SQSClient,
    queueUrl: string,
    archive: Archive,
    documents: ReturnType<typeof createDocumentClient>,
  ) {
    const { config, logger, transport } = this.#options;
    const control = new OperationControl({ client: documents, prefix: config.prefix, logger });
    const delivery = new ResultDelivery({
      client: documents,
      prefix: config.prefix,
      logger,
      onProgress: (operationId, progress) => control.observe(operationId, progress),
    });
    const metrics = new MetricsWriter({ client: documents, prefix: config.prefix, logger });
    this.#closing.push(() => metrics.close());
    const worker = new BatchWorker({
      metrics,
      siteId: config.siteId,
      sqs,
      queueUrl,
      archive,
      writer: new ArchiveWriter(archive),
      delivery,
      control,
      transport,
      throttle: this.throttle,
      logger,
      defaultTimeoutSeconds: config.defaultTimeoutSeconds,
      visibilityTimeoutSeconds: this.#options.visibilityTimeoutSeconds,
    });
    return new Poller({
      sqs,
      queueUrl,
      handler: worker,
      logger,
      maxBatchesInFlight: config.maxBatchesInFlight,
      waitTimeSeconds: this.#options.waitTimeSeconds,
    });
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
}

function cloudEnv(config: ConnectorConfig) {
  return {
    WINFLEET_PREFIX: config.prefix,
    AWS_REGION: config.region,
    WINFLEET_DYNAMODB_ENDPOINT: config.dynamodbEndpoint,
    WINFLEET_SQS_ENDPOINT: config.sqsEndpoint,
  };
}
