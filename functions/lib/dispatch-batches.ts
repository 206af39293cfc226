import {
  type BatchResultErrorEntry,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { CloudEnv } from '../../shared/config.ts';
import type { Logger } from '../../shared/logger.ts';
import { QUEUE_SETTINGS, siteQueueName } from '../../shared/queues.ts';
import { backoff } from './items.ts';
import type { PlannedBatch } from './plan-batches.ts';
import { forgetSiteQueue, isQueueMissing, siteQueueUrl } from './site-queues.ts';

/** SendMessageBatch's limit on entries per call. */
const MAX_ENTRIES_PER_CALL = 10;
const MAX_SEND_ATTEMPTS = 5;
/** Calls to SendMessageBatch in flight at once. */
const SEND_CONCURRENCY = 8;

interface SendCall {
  siteId: string;
  batches: PlannedBatch[];
}

/** A batch SQS did not accept, and the last error (or failed entry) that says why. */
export interface UnsentBatch {
  batch: PlannedBatch;
  error: string;
}

/** Told the ids of batches SQS accepted, after each call that sent some. */
export type OnBatchesSent = (batchIds: string[]) => Promise<void>;

/**
 * Sends batches to their sites' queues with SendMessageBatch: per call at most 10 entries and
 * `maxMessageBytes` in all, entry ids equal to batch ids, failed entries retried with back-off.
 * `onSent` hears of every batch SQS accepted. Returns the batches that could not be sent, with
 * the reason. A missing queue is not retried: it will not appear within seconds.
 */
export async function dispatchBatches(
  sqs: SQSClient,
  env: CloudEnv,
  batches: readonly PlannedBatch[],
  logger: Logger,
  onSent: OnBatchesSent = async () => {},
): Promise<UnsentBatch[]> {
  const calls = groupIntoCalls(batches);
  const failed: UnsentBatch[] = [];
  let next = 0;
  const worker = async () => {
    while (next < calls.length) {
      const call = calls[next++];
      if (call) failed.push(...(await sendCall(sqs, env, call, { logger, onSent })));
    }
  };
  await Promise.all(Array.from({ length: Math.min(SEND_CONCURRENCY, calls.length) }, worker));
  return failed;
}

function groupIntoCalls(batches: readonly PlannedBatch[]): SendCall[] {
  const calls: SendCall[] = [];
  let current: SendCall | undefined;
  let currentBytes = 0;
  for (const batch of batches) {
    const fits =
      current?.siteId === batch.siteId &&
      current.batches.length < MAX_ENTRIES_PER_CALL &&
      currentBytes + batch.bodyBytes <= QUEUE_SETTINGS.maxMessageBytes;
    if (!fits || !current) {
      current = { siteId: batch.siteId, batches: [] };
      calls.push(current);
      currentBytes = 0;
    }
    current.batches.push(batch);
    currentBytes += batch.bodyBytes;
  }
  return calls;
}

async function sendCall(
  sqs: SQSClient,
  env: CloudEnv,
  call: SendCall,
  hooks: { logger: Logger; onSent: OnBatchesSent },
): Promise<UnsentBatch[]> {
  const { logger, onSent } = hooks;
  let pending = call.batches;
  let lastError = 'not attempted';
  for (let attempt = 0; attempt < MAX_SEND_ATTEMPTS && pending.length > 0; attempt++) {
    if (attempt > 0) await backoff(attempt);
    try {
      const queueUrl = await siteQueueUrl(sqs, env, call.siteId);
      const out = await sqs.send(
        new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending.map(toEntry) }),
      );
      const failedEntries = out.Failed ?? [];
      const failedIds = new Set(failedEntries.map((entry) => entry.Id));
      const sent = pending.filter((batch) => !failedIds.has(batch.batchId));
      pending = pending.filter((batch) => failedIds.has(batch.batchId));
      for (const entry of failedEntries) logFailedEntry(logger, call.siteId, entry, attempt);
      if (failedEntries[0]) lastError = `${failedEntries[0].Code}: ${failedEntries[0].Message}`;
      if (sent.length > 0) await onSent(sent.map((batch) => batch.batchId));
      // A sender fault (bad body, too big) fails the same way on every retry.
      if (failedEntries.every((entry) => entry.SenderFault)) break;
    } catch (error) {
      lastError = describeError(error);
      logger.warn({ err: error, siteId: call.siteId, attempt }, 'batch send failed');
      if (isQueueMissing(error)) {
        const queueName = siteQueueName(env.WINFLEET_PREFIX, call.siteId);
        lastError = `QueueDoesNotExist: queue ${queueName} does not exist (site not deployed)`;
        forgetSiteQueue(env, call.siteId);
        break;
      }
    }
  }
  return pending.map((batch) => ({ batch, error: lastError }));
}

function logFailedEntry(
  logger: Logger,
  siteId: string,
  entry: BatchResultErrorEntry,
  attempt: number,
): void {
  logger.warn(
    {
      siteId,
      batchId: entry.Id,
      code: entry.Code,
      sqsMessage: entry.Message,
      senderFault: entry.SenderFault,
      attempt,
    },
    'batch entry refused by SQS',
  );
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.name === 'Error' ? error.message : `${error.name}: ${error.message}`;
}

function toEntry(batch: PlannedBatch): SendMessageBatchRequestEntry {
  return { Id: batch.batchId, MessageBody: batch.body };
}
