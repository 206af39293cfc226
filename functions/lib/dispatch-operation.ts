import type { Logger } from '../../shared/logger.ts';
import { DispatchError } from '../errors.ts';
import type { Deps } from './deps.ts';
import { dispatchBatches } from './dispatch-batches.ts';
import { readDispatchPlan, recordSentBatches, startDispatchAttempt } from './dispatch-plan.ts';
import { getOperation, transitionOperation } from './operations-store.ts';
import { batchMessage } from './plan-batches.ts';

/** Attempts at dispatching one operation: Lambda's asynchronous invoke tries three times. */
export const MAX_DISPATCH_ATTEMPTS = 3;

export type DispatchOutcome =
  | { operationId: string; sent: number; alreadySent: number }
  | { operationId: string; skipped: string };

/**
 * Sends an operation's planned batches to its sites' queues. Each batch SQS accepts is
 * recorded at once, and a retry sends only batches not recorded, so a retried dispatch never
 * enqueues a recorded batch twice (the one window left: SQS accepted a call and the dispatcher
 * died before recording it; connectors then count each device once all the same). Once every
 * batch is out the operation moves to InProgress; if batches still fail on the last attempt it
 * is marked Failed, else DispatchError asks for another attempt.
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
  const { attempts, sent } = await startDispatchAttempt(deps.doc, deps.env, operationId);
  const plan = await readDispatchPlan(deps.doc, deps.env, operationId);
  const toSend = plan.filter((b) => !sent.has(b.batchId)).map((b) => batchMessage(operation, b));
  const failed = await dispatchBatches(deps.sqs, deps.env, toSend, logger, (batchIds) =>
    recordSentBatches(deps.doc, deps.env, operationId, batchIds),
  );
  if (failed.length === 0) {
    await moveOn(deps, operationId, 'InProgress');
    logger.info({ sent: toSend.length, alreadySent: sent.size }, 'operation dispatched');
    return { operationId, sent: toSend.length, alreadySent: sent.size };
  }
  const failedIds = failed.map((batch) => batch.batchId);
  logger.error({ failedBatches: failed.length, attempts }, 'dispatch failed');
  if (attempts >= MAX_DISPATCH_ATTEMPTS) await moveOn(deps, operationId, 'Failed');
  throw new DispatchError(operationId, failedIds);
}

async function moveOn(deps: Deps, operationId: string, to: 'InProgress' | 'Failed') {
  const now = new Date().toISOString();
  await transitionOperation(deps.doc, deps.env, { operationId, from: 'Pending', to, now });
}
