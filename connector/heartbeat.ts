import { ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../shared/logger.ts';

export interface HeartbeatOptions {
  sqs: SQSClient;
  queueUrl: string;
  /** The message's receipt handle, read at each beat: a new receive of it may replace it. */
  receiptHandle: string | (() => string);
  /** The visibility each beat restores, in seconds. */
  visibilityTimeoutSeconds: number;
  signal: AbortSignal;
  logger: Logger;
}

/** A running heartbeat; `stop` ends it. */
export interface Heartbeat {
  stop(): void;
}

/**
 * Keeps a message hidden from other consumers while its batch runs: every third of the
 * visibility timeout the visibility is extended to a full timeout again.
 */
export function startHeartbeat(options: HeartbeatOptions): Heartbeat {
  const { sqs, queueUrl, receiptHandle, visibilityTimeoutSeconds, signal, logger } = options;
  const beat = async () => {
    try {
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: typeof receiptHandle === 'string' ? receiptHandle : receiptHandle(),
          VisibilityTimeout: visibilityTimeoutSeconds,
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      if (!signal.aborted) logger.warn({ err: error }, 'visibility heartbeat failed');
    }
  };
  const timer = setInterval(beat, (visibilityTimeoutSeconds * 1000) / 3);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
