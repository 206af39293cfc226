import type { OperationStatus } from './schemas/operation.ts';
import { type FinalDeviceState, SUCCESS_STATES } from './schemas/result.ts';

/** Per-state counts of an operation's final device results. */
export type StateCounts = Partial<Record<string, number>>;

/**
 * The operation's status from its device counts: still InProgress until every device has a
 * final result; then Success when all succeeded (or were served from cache), Cancelled when
 * any were cancelled and none failed, Failed when none succeeded, CompletedWithErrors otherwise.
 */
export function decideOperationStatus(counts: StateCounts, total: number): OperationStatus {
  const done = sumCounts(counts);
  if (done < total) return done === 0 ? 'Pending' : 'InProgress';
  const succeeded = countOf(counts, SUCCESS_STATES);
  const cancelled = counts.Cancelled ?? 0;
  if (succeeded === total) return 'Success';
  if (cancelled > 0 && succeeded + cancelled === total) return 'Cancelled';
  if (succeeded === 0 && cancelled === 0) return 'Failed';
  return 'CompletedWithErrors';
}

export function sumCounts(counts: StateCounts): number {
  return Object.values(counts).reduce<number>((sum, n) => sum + (n ?? 0), 0);
}

function countOf(counts: StateCounts, states: ReadonlySet<FinalDeviceState>): number {
  let n = 0;
  for (const state of states) n += counts[state] ?? 0;
  return n;
}
