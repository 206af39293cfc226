import type { Logger } from '../../shared/logger.ts';
import { decideOperationStatus } from '../../shared/operation-outcome.ts';
import { putResultBatch, readBatchProgress } from '../../shared/result-batch-store.ts';
import type { DeviceResult } from '../../shared/schemas/index.ts';
import { DispatchError } from '../errors.ts';
import type { Deps } from './deps.ts';
import { dispatchBatches, type UnsentBatch } from './dispatch-batches.ts';
import {
  readDispatchPlan,
  recordAbandonedBatches,
  recordSentBatches,
  startDispatchAttempt,
} from './dispatch-plan.ts';
import { planErrorBudgets } from './error-budgets.ts';
import {
  finishOperation,
  getOperation,
  recordOperationError,
  transitionOperation,
} from './operations-store.ts';
import { batchMessage } from './plan-batches.ts';

/** Attempts at dispatching one operation: Lambda's asynchronous invoke tries three times. */
export const MAX_DISPATCH_ATTEMPTS = 3;

export type DispatchOutcome =
  | { operationId: string; sent: number; alreadySent: number; abandoned?: number }
  | { operationId: string; skipped: string };

/**
 * Sends an operation's planned batches to its sites' queues. Each batch SQS accepts is
 * recorded at once, and a retry sends only batches not recorded, so a retried dispatch never
 * enqueues a recorded batch twice (the one window left: SQS accepted a call and the dispatcher
 * died before recording it; connectors then count each device once all the same). Once every
 * batch is out the operation moves to InProgress. While attempts remain, a failed batch throws
 * DispatchError to ask for another attempt; on the last attempt the batches still unsent are
 * abandoned (see abandonBatches) and the operation carries the cause in `error`.
 */
export async function dispatchOperation(
  deps: Deps,
  operationId: string,
  logger: Logger,
): Promise<DispatchOutcome> {
  const operation = await getOperation(deps.doc, deps.env, operationId);
  if (!operation) return { operationId, skipped: 'no such operation' };
  if (operation.status !== 'Pending' && operation.status !== 'InProgress') {
    return { operationId, skipped: `the operation is ${operation.status}` };
  }
  const { attempts, sent, abandoned } = await startDispatchAttempt(deps.doc, deps.env, operationId);
  const plan = await readDispatchPlan(deps.doc, deps.env, operationId);
  const budgets = planErrorBudgets(operation.rateControl?.maxErrors, plan);
  const toSend = plan
    .filter((b) => !sent.has(b.batchId) && !abandoned.has(b.batchId))
    .map((b) => batchMessage(operation, b, budgets));
  const unsent = await dispatchBatches(deps.sqs, deps.env, toSend, logger, (batchIds) =>
    recordSentBatches(deps.doc, deps.env, operationId, batchIds),
  );
  const sentNow = toSend.length - unsent.length;
  if (unsent.length === 0) {
    await moveOn(deps, operationId, 'InProgress');
    logger.info({ sent: sentNow, alreadySent: sent.size }, 'operation dispatched');
    return { operationId, sent: sentNow, alreadySent: sent.size };
  }
  logger.error({ unsentBatches: unsent.length, attempts }, 'dispatch failed');
  if (attempts < MAX_DISPATCH_ATTEMPTS) {
    throw new DispatchError(
      operationId,
      unsent.map((u) => u.batch.batchId),
    );
  }
  await abandonBatches(deps, operationId, unsent, logger);
  return { operationId, sent: sentNow, alreadySent: sent.size, abandoned: unsent.length };
}

async function moveOn(deps: Deps, operationId: string, to: 'InProgress' | 'Failed') {
  const now = new Date().toISOString();
  await transitionOperation(deps.doc, deps.env, { operationId, from: 'Pending', to, now });
}

/**
 * Gives up on batches that could not be queued: each of their devices gets a final Failed
 * result naming the cause (so the counts add up to the total), the batches are recorded as
 * abandoned (no later dispatch sends them), and the operation gets `error`. If other batches
 * were sent it goes on (InProgress; its connectors close it, and it can be cancelled); if
 * every device now has a result it is closed here with its outcome and `finishedAt`.
 */
async function abandonBatches(
  deps: Deps,
  operationId: string,
  unsent: readonly UnsentBatch[],
  logger: Logger,
): Promise<void> {
  const now = new Date().toISOString();
  for (const { batch, error } of unsent) {
    const reason = `batch ${batch.batchId} could not be queued to site ${batch.siteId}: ${error}`;
    const results = batch.devices.map((device) => failedResult(operationId, batch, device, reason));
    if (results.length > 0) {
      const ref = { operationId, batchId: batch.batchId, siteId: batch.siteId };
      await putResultBatch(deps.doc, deps.env.WINFLEET_PREFIX, ref, results);
    }
  }
  await recordAbandonedBatches(
    deps.doc,
    deps.env,
    operationId,
    unsent.map((u) => u.batch.batchId),
  );
  const error = operationError(unsent);
  // InProgress first: closeIfDone (or a connector) then closes it with its counts.
  const status = 'InProgress';
  await recordOperationError(deps.doc, deps.env, { operationId, error, status, now });
  await closeIfDone(deps, operationId, now);
  logger.error({ abandonedBatches: unsent.length, error }, 'batches abandoned');
}

function failedResult(
  operationId: string,
  batch: UnsentBatch['batch'],
  device: { deviceId: string },
  error: string,
): DeviceResult {
  const now = new Date().toISOString();
  return {
    operationId,
    deviceId: device.deviceId,
    siteId: batch.siteId,
    batchId: batch.batchId,
    status: 'Failed',
    error,
    startedAt: now,
    finishedAt: now,
    durationMs: 0,
  };
}

/** One line for the operation: which sites, how many devices, and the first cause. */
function operationError(unsent: readonly UnsentBatch[]): string {
  const siteIds = [...new Set(unsent.map((u) => u.batch.siteId))].sort();
  const devices = unsent.reduce((n, u) => n + u.batch.devices.length, 0);
  const cause = unsent[0]?.error ?? 'unknown';
  return (
    `${unsent.length} batches (${devices} devices) could not be queued to sites ` +
    `${siteIds.join(', ')}; their devices are Failed: ${cause}`
  );
}

/** Closes the operation if every device has a result (connectors may have finished first). */
async function closeIfDone(deps: Deps, operationId: string, now: string): Promise<void> {
  const operation = await getOperation(deps.doc, deps.env, operationId);
  if (!operation) return;
  const progress = await readBatchProgress(deps.doc, deps.env.WINFLEET_PREFIX, operationId, {
    consistent: true,
  });
  if (progress.done < operation.total) return;
  const status = decideOperationStatus(progress.counts, operation.total);
  const { counts, done } = progress;
  await finishOperation(deps.doc, deps.env, { operationId, status, counts, done, now });
}
