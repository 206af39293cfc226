import type { Command } from 'commander';
import { z } from 'zod';
import { type ArchivedResult, queryArchive } from '../../connector/archive/index.ts';
import { stackPaths } from '../../local/layout.ts';
import { FinalDeviceState } from '../../shared/schemas/result.ts';
import { SiteId } from '../../shared/schemas/site.ts';
import { parseFlags } from './api-options.ts';

const QueryFlags = z.strictObject({
  dataDir: z.string().min(1).default('.data/winfleet'),
  site: SiteId,
  operation: z.string().min(1).optional(),
  device: z.string().min(1).optional(),
  status: FinalDeviceState.optional(),
  since: z.iso
    .datetime({ offset: true })
    .transform((s) => new Date(s))
    .optional(),
  limit: z.coerce.number().int().min(1).max(100_000).default(100),
  json: z.boolean().default(false),
  includeCold: z.boolean().default(false),
});
export type QueryFlags = z.infer<typeof QueryFlags>;

/** `winfleet archive query`: a site's archived results, for an operator at the site. */
export function registerArchiveCommand(program: Command): void {
  const archive = program.command('archive').description("Read a site connector's archive");
  archive
    .command('query')
    .description('List archived results, newest first, from DIR/<site>/archive.db')
    .requiredOption('--site <siteId>', 'the site whose archive to read')
    .option(
      '--data-dir <dir>',
      'the folder holding one sub-folder per site (default .data/winfleet)',
    )
    .option('--operation <operationId>', 'only this operation')
    .option('--device <deviceId>', 'only this device')
    .option('--status <status>', 'only this final state (Success, Failed, ...)')
    .option('--since <iso>', 'only results finished at or after this ISO 8601 instant')
    .option('--limit <n>', 'at most this many results (default 100)')
    .option('--json', 'one JSON document per line instead of a table')
    .option(
      '--include-cold',
      'also search the monthly cold files (DIR/<site>/archive-YYYY-MM.db) past the retention',
    )
    .action((raw: Record<string, unknown>) => {
      process.stdout.write(runArchiveQuery(parseFlags(QueryFlags, raw)));
    });
}

/** The query's answer as text: a table, or JSON lines with `--json`. */
export function runArchiveQuery(flags: QueryFlags): string {
  const file = stackPaths(flags.dataDir).site(flags.site).archive;
  const found = queryArchive(file, {
    siteId: flags.site,
    operationId: flags.operation,
    deviceId: flags.device,
    status: flags.status,
    since: flags.since,
    limit: flags.limit,
    includeCold: flags.includeCold,
  });
  if (flags.json) return found.map((a) => `${JSON.stringify(jsonLine(a))}\n`).join('');
  return table(found);
}

function jsonLine({ result, deliveredAt }: ArchivedResult) {
  return { ...result, deliveredAt };
}

function table(found: readonly ArchivedResult[]): string {
  const header = ['finishedAt', 'operationId', 'deviceId', 'status', 'exitCode', 'delivered'];
  const rows = found.map(({ result, deliveredAt }) => [
    result.finishedAt,
    result.operationId,
    result.deviceId,
    result.status,
    result.exitCode === undefined ? '' : String(result.exitCode),
    deliveredAt ? 'yes' : 'no',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: readonly string[]) =>
    `${cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()}\n`;
  const lines = [header, ...rows].map(line).join('');
  return `${lines}${found.length} result(s)\n`;
}
