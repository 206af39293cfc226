import { setTimeout as sleep } from 'node:timers/promises';
import { type Message, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../shared/logger.ts';
import type { BatchOutcome, BatchSignals } from './batch-worker.ts';

/** What processes one received message; BatchWorker in production. */
export interface MessageHandler {
  process(message: Message, signals: BatchSignals): Promise<BatchOutcome>;
}

export interface PollerOptions {
  sqs: SQSClient;
  queueUrl: string;
  handler: MessageHandler;
  logger: Logger;
  /** Messages held at once; no receive happens while this many are in hand. */
  maxBatchesInFlight: number;
  /** Long-poll wait per receive, in seconds. Default 20 (SQS's longest). */
  waitTimeSeconds?: number;
  /** First back-off after a failed receive; it doubles up to maxBackoffMs. Default 1000. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * Long-polls a site's queue and hands each message to the handler, holding at most
 * `maxBatchesInFlight` at once. `run` returns after `stop` aborts and every batch in hand has
 * finished (draining), or sooner when `abort` aborts.
 */
export class Poller {
  readonly #options: PollerOptions;
  readonly #inHand = new Set<Promise<unknown>>();
  #backoffMs: number;

  constructor(options: PollerOptions) {
    this.#options = options;
    this.#backoffMs = options.backoffMs ?? 1000;
  }

  /** Batches being processed now. */
  get batchesInFlight(): number {
    return this.#inHand.size;
  }

  async run(signals: BatchSignals): Promise<void> {
    while (!signals.stop.aborted) {
      if (this.#inHand.size >= this.#options.maxBatchesInFlight) {
        await Promise.race(this.#inHand);
        continue;
      }
      const messages = await this.#receive(signals.stop);
      for (const message of messages) this.#handle(message, signals);
    }
    await Promise.allSettled(this.#inHand);
  }

  async #receive(signal: AbortSignal): Promise<Message[]> {
    const { sqs, queueUrl, logger } = this.#options;
    const free = this.#options.maxBatchesInFlight - this.#inHand.size;
    try {
      const output = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(10, free),
          WaitTimeSeconds: this.#options.waitTimeSeconds ?? 20,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
        { abortSignal: signal },
      );
      this.#backoffMs = this.#options.backoffMs ?? 1000;
      return output.Messages ?? [];
    } catch (error) {
      if (signal.aborted) return [];
      logger.warn({ err: error, queueUrl, retryInMs: this.#backoffMs }, 'receive failed');
      await sleep(this.#backoffMs, undefined, { signal }).catch(() => {});
      this.#backoffMs = Math.min(this.#backoffMs * 2, this.#options.maxBackoffMs ?? 30_000);
      return [];
    }
  }

  #handle(message: Message, signals: BatchSignals): void {
    const { handler, logger } = this.#options;
    const work = handler.process(message, signals).catch((error: unknown) => {
      logger.error({ err: error, messageId: message.MessageId }, 'batch failed');
    });
    this.#inHand.add(work);
    void work.finally(() => this.#inHand.delete(work));
  }
}
