import { setTimeout as sleep } from 'node:timers/promises';
import { type Message, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
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
 *
 * A message is never run twice at once. When an outage outlasts the visibility timeout, SQS
 * hands out a message still in hand again, with a new receipt handle (the old one stops
 * working): the message in hand adopts the new handle, which its heartbeats and delete read,
 * and the copy is not run. A different message for a batch already in hand (a dispatch sent
 * twice) is left alone: it comes back after its visibility timeout, when the batch in hand
 * has finished and the copy finds every device done.
 */
export class Poller {
  readonly #options: PollerOptions;
  readonly #inHand = new Set<Promise<unknown>>();
  /** The messages in hand, by MessageId; the handler reads their ReceiptHandle when it acts. */
  readonly #byMessageId = new Map<string, Message>();
  /** The MessageIds in hand, by batch (`operationId` and `batchId`). */
  readonly #byBatch = new Map<string, string>();
  #backoffMs: number;

  constructor(options: PollerOptions) {
    this.#options = options;
    this.#backoffMs = options.backoffMs ?? 1000;
  }

  /** Batches being processed now. */
  get batchesInFlight(): number {
    return this.#inHand.size;
  }

  /** Whether a message of this batch is in hand now. */
  holds(operationId: string, batchId: string): boolean {
    return this.#byBatch.has(batchKey(operationId, batchId));
  }

  async run(signals: BatchSignals): Promise<void> {
    while (!signals.stop.aborted) {
      if (this.#inHand.size >= this.#options.maxBatchesInFlight) {
        await Promise.race(this.#inHand);
        continue;
      }
      const messages = await this.#receive(signals.stop);
      for (const message of messages) {
        if (!this.#isCopy(message)) this.#handle(message, signals);
      }
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

  /**
   * True for a message whose batch is in hand already: a second receive of the same message
   * (whose new receipt handle the held one adopts) or another message for the same batch.
   */
  #isCopy(message: Message): boolean {
    const { logger } = this.#options;
    const messageId = message.MessageId;
    const held = messageId === undefined ? undefined : this.#byMessageId.get(messageId);
    if (held) {
      held.ReceiptHandle = message.ReceiptHandle;
      logger.warn({ messageId }, 'message in hand received again');
      return true;
    }
    const key = peekBatchKey(message);
    const holder = key === undefined ? undefined : this.#byBatch.get(key);
    if (holder === undefined) return false;
    logger.warn({ messageId, heldMessageId: holder }, 'batch in hand received in another message');
    return true;
  }

  #handle(message: Message, signals: BatchSignals): void {
    const { handler, logger } = this.#options;
    const untrack = this.#track(message);
    const work = handler.process(message, signals).catch((error: unknown) => {
      logger.error({ err: error, messageId: message.MessageId }, 'batch failed');
    });
    this.#inHand.add(work);
    void work.finally(() => {
      this.#inHand.delete(work);
      untrack();
    });
  }

  #track(message: Message): () => void {
    const messageId = message.MessageId;
    if (messageId === undefined) return () => {};
    const key = peekBatchKey(message);
    this.#byMessageId.set(messageId, message);
    if (key !== undefined && !this.#byBatch.has(key)) this.#byBatch.set(key, messageId);
    return () => {
      this.#byMessageId.delete(messageId);
      if (key !== undefined && this.#byBatch.get(key) === messageId) this.#byBatch.delete(key);
    };
  }
}

const BatchRef = z.object({ operationId: z.string(), batchId: z.string() });

function batchKey(operationId: string, batchId: string): string {
  return `${operationId}\n${batchId}`;
}

/**
 * The batch a message's body names, read leniently: the handler parses the body properly and
 * turns a malformed one away; here an unreadable body only means "no batch to compare".
 */
function peekBatchKey(message: Message): string | undefined {
  try {
    const parsed = BatchRef.safeParse(JSON.parse(message.Body ?? ''));
    return parsed.success ? batchKey(parsed.data.operationId, parsed.data.batchId) : undefined;
  } catch {
    return undefined;
  }
}
