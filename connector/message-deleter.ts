import { DeleteMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../shared/logger.ts';

/** DeleteMessageBatch's limit on entries per call. */
const MAX_ENTRIES_PER_CALL = 10;

export interface MessageDeleterOptions {
  sqs: SQSClient;
  queueUrl: string;
  logger: Logger;
  /** How long a delete waits for others to share its call. Default 100 ms. */
  lingerMs?: number;
}

interface PendingDelete {
  receiptHandle: string;
  resolve: (deleted: boolean) => void;
}

/**
 * Deletes messages with DeleteMessageBatch, up to 10 per call: a delete waits up to
 * `lingerMs` for other batches finishing at about the same time. Resolves false for a message
 * SQS did not delete (it comes back after its visibility timeout).
 */
export class MessageDeleter {
  readonly #options: MessageDeleterOptions;
  #pending: PendingDelete[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(options: MessageDeleterOptions) {
    this.#options = options;
  }

  delete(receiptHandle: string): Promise<boolean> {
    return new Promise((resolve) => {
      this.#pending.push({ receiptHandle, resolve });
      if (this.#pending.length >= MAX_ENTRIES_PER_CALL) this.#send();
      else this.#timer ??= setTimeout(() => this.#send(), this.#options.lingerMs ?? 100);
    });
  }

  #send(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#pending.length > 0) {
      void this.#deleteCall(this.#pending.splice(0, MAX_ENTRIES_PER_CALL));
    }
  }

  async #deleteCall(entries: PendingDelete[]): Promise<void> {
    const { sqs, queueUrl, logger } = this.#options;
    try {
      const out = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: entries.map((entry, i) => ({
            Id: String(i),
            ReceiptHandle: entry.receiptHandle,
          })),
        }),
      );
      const failed = new Set((out.Failed ?? []).map((f) => f.Id));
      if (failed.size > 0) logger.warn({ failed: failed.size }, 'batch messages not deleted');
      for (const [i, entry] of entries.entries()) entry.resolve(!failed.has(String(i)));
    } catch (error) {
      logger.warn({ err: error, messages: entries.length }, 'batch messages not deleted');
      for (const entry of entries) entry.resolve(false);
    }
  }
}
