import { formatSummary, summarizeBySite } from '../../local/summary.ts';
import type { ApiClient } from '../api-client.ts';
import { createProgressDisplay } from '../progress.ts';
import { watchOperation } from '../watch.ts';

/** Exit code when an operation ends in any status but Success. */
export const EXIT_NOT_SUCCESS = 2;
/** Exit code after Ctrl-C while watching (128 + SIGINT), as shells report it. */
const EXIT_INTERRUPTED = 130;

/**
 * Shows an operation's progress per site on stderr until it ends, then prints the per-site
 * summary (or, with `json`, the final operation) on stdout. Sets exit code 2 unless the
 * operation ended in Success.
 */
export async function followOperation(
  api: ApiClient,
  operationId: string,
  options: { json?: boolean; pollMs?: number } = {},
): Promise<void> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  try {
    const watched = await watchOperation(api, operationId, {
      progress: createProgressDisplay(process.stderr),
      pollMs: options.pollMs,
      signal: controller.signal,
    }).catch((error: unknown) => {
      if (!controller.signal.aborted) throw error;
      process.stderr.write(`stopped watching; ${operationId} goes on (winfleet ops watch)\n`);
      process.exitCode = EXIT_INTERRUPTED;
    });
    if (!watched) return;
    const { operation, results } = watched;
    const summary = formatSummary(operation, summarizeBySite(operation, results));
    process.stdout.write(options.json ? `${JSON.stringify(operation)}\n` : `${summary}\n`);
    if (operation.status !== 'Success') process.exitCode = EXIT_NOT_SUCCESS;
  } finally {
    process.off('SIGINT', stop);
  }
}
