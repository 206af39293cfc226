import { type Command, Option } from 'commander';
import { z } from 'zod';
import type { Operation } from '../../shared/schemas/operation.ts';
import { formatTable } from '../table.ts';
import { clientFrom, parseFlags, withConnectionOptions } from './api-options.ts';
import { followOperation } from './follow.ts';

const ListFlags = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).optional(),
  json: z.boolean().optional(),
});
const JsonFlag = z.strictObject({ json: z.boolean().optional() });
const WatchFlags = z.strictObject({
  json: z.boolean().optional(),
  pollMs: z.coerce.number().int().positive().optional(),
});

/** `winfleet ops list|show|watch|cancel`: operations already started. */
export function registerOpsCommand(program: Command): void {
  const ops = program.command('ops').description('list, show, watch and cancel operations');
  withConnectionOptions(
    ops
      .command('list')
      .description('operations, newest first')
      .option('--limit <n>', 'operations per page (1-100, default 20)')
      .option('--cursor <cursor>', 'the next page, as a previous list printed it')
      .option('--json', 'print the page as JSON'),
  ).action(list);
  withConnectionOptions(
    ops
      .command('show')
      .description('one operation with its counts per device state')
      .argument('<operationId>')
      .option('--json', 'print the operation as JSON'),
  ).action(show);
  withConnectionOptions(
    ops
      .command('watch')
      .description(
        'progress per site until the operation ends, then the summary (exit 2 unless Success)',
      )
      .argument('<operationId>')
      .option('--json', 'print the final operation as JSON instead of the summary')
      .addOption(new Option('--poll-ms <ms>', 'between polls').hideHelp()),
  ).action(async (operationId: string, options: Record<string, unknown>) => {
    const flags = parseFlags(WatchFlags, options);
    await followOperation(await clientFrom(options), operationId, flags);
  });
  withConnectionOptions(
    ops
      .command('cancel')
      .description('cancel an operation that has not ended')
      .argument('<operationId>'),
  ).action(async (operationId: string, options: Record<string, unknown>) => {
    const operation = await (await clientFrom(options)).cancel(operationId);
    process.stdout.write(`operation ${operation.operationId}: ${operation.status}\n`);
  });
}

async function list(options: Record<string, unknown>): Promise<void> {
  const { json, ...query } = parseFlags(ListFlags, options);
  // Only the query parameters go to the API: it answers 400 to one it does not know.
  const page = await (await clientFrom(options)).operationsPage(query);
  if (json) {
    process.stdout.write(`${JSON.stringify(page)}\n`);
    return;
  }
  const rows = page.items.map((op) => [
    op.operationId,
    op.type,
    op.status,
    `${op.done}/${op.total}`,
    op.source,
    op.createdAt,
  ]);
  const header = ['operation', 'type', 'status', 'done', 'source', 'created'];
  process.stdout.write(`${formatTable(header, rows, { rightAligned: [3] })}\n`);
  if (page.nextCursor) process.stdout.write(`more: --cursor ${page.nextCursor}\n`);
}

async function show(operationId: string, options: Record<string, unknown>): Promise<void> {
  const flags = parseFlags(JsonFlag, options);
  const operation = await (await clientFrom(options)).operation(operationId);
  process.stdout.write(flags.json ? `${JSON.stringify(operation)}\n` : `${describe(operation)}\n`);
}

function describe(op: Operation): string {
  const fields: [string, unknown][] = [
    ['operation', op.operationId],
    ['type', op.type],
    ['status', op.status],
    ['targets', JSON.stringify(op.targets)],
    ['sites', op.siteIds.join(', ')],
    ['devices', `${op.done} of ${op.total} done`],
    ['rate control', op.rateControl ? JSON.stringify(op.rateControl) : undefined],
    ['force', op.force],
    ['source', op.source],
    ['created', op.createdAt],
    ['finished', op.finishedAt],
    ['error', op.error],
    [
      'skipped',
      op.skipped?.map((s) => `${s.siteId} (${s.devices} devices, ${s.reason})`).join(', '),
    ],
  ];
  const shown = fields.filter(([, value]) => value !== undefined);
  const counts = Object.entries(op.counts).sort(([a], [b]) => a.localeCompare(b));
  return [
    formatTable(['field', 'value'], shown, { maxCellChars: 100 }).split('\n').slice(1).join('\n'),
    '',
    formatTable(['state', 'devices'], counts, { rightAligned: [1] }),
  ].join('\n');
}
