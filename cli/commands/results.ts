import type { Command } from 'commander';
import { z } from 'zod';
import { FinalDeviceState } from '../../shared/schemas/result.ts';
import type { ResultItem } from '../api-client.ts';
import { formatTable } from '../table.ts';
import { clientFrom, parseFlags, withConnectionOptions } from './api-options.ts';

const ResultsFlags = z.strictObject({
  status: FinalDeviceState.optional(),
  json: z.boolean().optional(),
});

/** `winfleet results ID`: every device result of an operation. */
export function registerResultsCommand(program: Command): void {
  withConnectionOptions(
    program
      .command('results')
      .description("an operation's device results as a table, or JSON")
      .argument('<operationId>')
      .option(
        '--status <state>',
        `only results in this state (${FinalDeviceState.options.join(', ')})`,
      )
      .option('--json', 'print the results as a JSON array'),
  ).action(async (operationId: string, options: Record<string, unknown>) => {
    const flags = parseFlags(ResultsFlags, options);
    const api = await clientFrom(options);
    const results = await api.allResults(operationId, { status: flags.status });
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(results)}\n`);
      return;
    }
    process.stdout.write(`${resultsTable(results)}\n${results.length} result(s)\n`);
  });
}

/** Results sorted by site and device, one line each with the exit code and a short detail. */
export function resultsTable(results: readonly ResultItem[]): string {
  const sorted = [...results].sort(
    (a, b) => a.siteId.localeCompare(b.siteId) || a.deviceId.localeCompare(b.deviceId),
  );
  const rows = sorted.map((r) => [
    r.deviceId,
    r.siteId,
    r.status,
    r.exitCode,
    r.durationMs,
    detail(r),
  ]);
  const header = ['device', 'site', 'status', 'exit', 'ms', 'detail'];
  return formatTable(header, rows, { rightAligned: [3, 4] });
}

function detail(result: ResultItem): string | undefined {
  if (result.error) return result.error;
  if (result.stderr?.trim()) return result.stderr;
  if (result.status === 'Cached' && result.cacheAgeSeconds !== undefined) {
    return `cached ${result.cacheAgeSeconds}s ago`;
  }
  return result.stdout?.trim().split('\n')[0];
}
