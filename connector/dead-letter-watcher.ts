import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteMessageCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Logger } from '../shared/logger.ts';
import { QUEUE_SETTINGS, siteDeadLetterQueueName } from '../shared/queues.ts';
import type { BatchMessage } from '../shared/schemas/batch.ts';
import type { DeviceResult } from '../shared/schemas/result.ts';
import type { Archive, ArchiveWriter } from './archive/index.ts';
import { parseBatchMessage } from './batch-message.ts';
import { unrunResult } from './batch-worker.ts';
import type { ResultDelivery } from './cloud/index.ts';

export interface DeadLetterWatcherOptions {
  siteId: string;
  prefix: string;
  sqs: SQSClient;
  archive: Archive;
  writer: ArchiveWriter;
  delivery: ResultDelivery;
  logger: Logger;
  /** The site's dead-letter queue; default: looked up by its name (shared/queues.ts). */
  queueUrl?: string;
  /** Whether this connector holds a message of the batch now: then it is left for later. */
  holds?: (operationId: string, batchId: string) => boolean;
  /** Time between two looks at the dead-letter queue. Default 60,000. */
  intervalMs?: number;
  /** The site queue's redrive maxReceiveCount, named in the results' error. Default 5. */
  maxReceiveCount?: number;
}

/** What one look at the dead-letter queue did, message by message. */
export interface DeadLetterRound {
  /** Batches whose every device now has a delivered final result; their messages deleted. */
  settled: number;
  /** Batches this connector holds now, or whose results wait in the outbox: left for later. */
  kept: number;
  /** Messages that are not a batch of this site: left in the queue for an operator. */
  malformed: number;
}

type MessageOutcome = keyof DeadLetterRound;

/** Receives per round at most: a round ends sooner when a receive brings nothing new. */
const MAX_RECEIVES_PER_ROUND = 10;

/**
 * Finishes the batches that the site's redrive policy dead-lettered. Such a batch was received
 * `maxReceiveCount` times without its connector finishing it (each time it crashed or lost the
 * batch), and nothing would ever give its unrun devices a result: its operation would stay
 * InProgress forever. Each device of the batch without a final result in the archive gets a
 * final `Failed` result, archived and delivered like any other, and the message is deleted
 * once every device's result is delivered. A message that is not a batch stays in the queue
 * for an operator (the queue's alarm fires on it) and is logged once.
 */
export class DeadLetterWatcher {
  readonly #options: DeadLetterWatcherOptions;
  /** Malformed messages already logged, by MessageId. */
  readonly #reported = new Set<string>();
  #queueUrl: string | undefined;

  constructor(options: DeadLetterWatcherOptions) {
    this.#options = options;
    this.#queueUrl = options.queueUrl;
  }

  /** Looks at the queue now and then every `intervalMs` until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const { logger } = this.#options;
    while (!signal.aborted) {
      try {
        await this.round(signal);
      } catch (error) {
        if (!signal.aborted) logger.warn({ err: error }, 'dead-letter queue not read');
      }
      await sleep(this.#options.intervalMs ?? 60_000, undefined, { signal }).catch(() => {});
    }
  }

  /** One look: receives until nothing new comes back and settles what it can. */
  async round(signal?: AbortSignal): Promise<DeadLetterRound> {
    const round: DeadLetterRound = { settled: 0, kept: 0, malformed: 0 };
    const queueUrl = await this.#resolveQueueUrl(signal);
    const seen = new Set<string>();
    for (let i = 0; i < MAX_RECEIVES_PER_ROUND && !signal?.aborted; i += 1) {
      const messages = await this.#receive(queueUrl, signal);
      const fresh = messages.filter((m) => !seen.has(m.MessageId ?? ''));
      if (fresh.length === 0) break;
      for (const message of fresh) {
        seen.add(message.MessageId ?? '');
        round[await this.#handle(queueUrl, message, signal)] += 1;
      }
    }
    return round;
  }

  async #handle(queueUrl: string, message: Message, signal?: AbortSignal): Promise<MessageOutcome> {
    const batch = this.#parse(message);
    if (!batch) return 'malformed';
    const log = this.#options.logger.child({
      operationId: batch.operationId,
      batchId: batch.batchId,
      messageId: message.MessageId,
    });
    // The batch runs here now: its devices get their results from that run.
    if (this.#options.holds?.(batch.operationId, batch.batchId)) return 'kept';
    const failed = await this.#failUnfinished(batch, log);
    const delivered = await this.#deliver(batch, log, signal);
    if (!delivered) return 'kept';
    await this.#options.sqs.send(
      new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
      { abortSignal: signal },
    );
    log.warn({ failed, devices: batch.devices.length }, 'dead-lettered batch finished');
    return 'settled';
  }

  #parse(message: Message): BatchMessage | undefined {
    const { logger, siteId } = this.#options;
    try {
      return parseBatchMessage(message, siteId);
    } catch (error) {
      const messageId = message.MessageId ?? '';
      if (!this.#reported.has(messageId)) {
        this.#reported.add(messageId);
        logger.error({ err: error, messageId }, 'dead-lettered message is not a batch');
      }
      return undefined;
    }
  }

  /** Archives a Failed result for each device of the batch that has no final result yet. */
  async #failUnfinished(batch: BatchMessage, log: Logger): Promise<number> {
    const { archive, writer } = this.#options;
    const deviceIds = uniqueDeviceIds(batch);
    const done = new Set(
      archive.finalResultsFor(batch.operationId, deviceIds).map((a) => a.result.deviceId),
    );
    const unfinished = batch.devices.filter(
      (device, i) => !done.has(device.deviceId) && deviceIds.indexOf(device.deviceId) === i,
    );
    if (unfinished.length === 0) return 0;
    const error = this.#error(batch);
    archive.recordOperation(batch.operationId, batch.type, batch.createdAt);
    await Promise.all(
      unfinished.map((device) => writer.write(unrunResult(batch, device, 'Failed', error))),
    );
    log.debug({ failed: unfinished.length }, 'dead-lettered devices failed');
    return unfinished.length;
  }

  #error(batch: BatchMessage): string {
    const receives = this.#options.maxReceiveCount ?? QUEUE_SETTINGS.maxReceiveCount;
    return (
      `batch dead-lettered after ${receives} receives: no connector of site ${batch.siteId} ` +
      'finished it, so this device was not run'
    );
  }

  /**
   * Delivers the batch's archived results not yet delivered, as the batch worker does; true
   * when every device's result is delivered. A failed delivery leaves them in the outbox.
   */
  async #deliver(batch: BatchMessage, log: Logger, signal?: AbortSignal): Promise<boolean> {
    const { archive, delivery } = this.#options;
    const deviceIds = uniqueDeviceIds(batch);
    const archived = archive.finalResultsFor(batch.operationId, deviceIds);
    const undelivered: DeviceResult[] = archived.filter((a) => !a.deliveredAt).map((a) => a.result);
    if (undelivered.length > 0) {
      try {
        const previousStatus = new Map(batch.devices.map((d) => [d.deviceId, d.lastStatus]));
        await delivery.deliverResults(undelivered, { signal, previousStatus });
        archive.markDelivered(undelivered);
      } catch (error) {
        if (!signal?.aborted) log.warn({ err: error }, 'dead-lettered batch results not delivered');
        return false;
      }
    }
    return archived.length === deviceIds.length;
  }

  async #receive(queueUrl: string, signal?: AbortSignal): Promise<Message[]> {
    const output = await this.#options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
      }),
      { abortSignal: signal },
    );
    return output.Messages ?? [];
  }

  async #resolveQueueUrl(signal?: AbortSignal): Promise<string> {
    if (this.#queueUrl !== undefined) return this.#queueUrl;
    const { sqs, prefix, siteId } = this.#options;
    const name = siteDeadLetterQueueName(prefix, siteId);
    const output = await sqs.send(new GetQueueUrlCommand({ QueueName: name }), {
      abortSignal: signal,
    });
    if (!output.QueueUrl) throw new Error(`GetQueueUrl for ${name} returned no queue URL`);
    this.#queueUrl = output.QueueUrl;
    return this.#queueUrl;
  }
}

function uniqueDeviceIds(batch: BatchMessage): string[] {
  return [...new Set(batch.devices.map((d) => d.deviceId))];
}
