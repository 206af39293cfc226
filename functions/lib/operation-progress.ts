import { decideOperationStatus } from '../../shared/operation-outcome.ts';
import { readBatchProgress } from '../../shared/result-batch-store.ts';
import type { Operation } from '../../shared/schemas/index.ts';
import type { Deps } from './deps.ts';

const OPEN_STATUSES: ReadonlySet<string> = new Set(['Pending', 'InProgress']);

/**
 * The operation with its current counts. While it runs, its counts are the sum over its batch
 * items (one Query), which no redelivery or crash can make wrong; once it ended, the counts it
 * was closed with. Its status follows the counts: InProgress from the first result, and its
 * outcome once every device has one, even before a connector recorded it.
 */
export async function withProgress(deps: Deps, operation: Operation): Promise<Operation> {
  if (!OPEN_STATUSES.has(operation.status) && operation.done >= operation.total) return operation;
  const progress = await readBatchProgress(
    deps.doc,
    deps.env.WINFLEET_PREFIX,
    operation.operationId,
    {
      consistent: false,
    },
  );
  const current = { ...operation, done: progress.done, counts: progress.counts };
  if (!OPEN_STATUSES.has(operation.status)) return current;
  if (progress.done >= operation.total) {
    return { ...current, status: decideOperationStatus(progress.counts, operation.total) };
  }
  return progress.done > 0 ? { ...current, status: 'InProgress' } : current;
}
