import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { runLocalUp } from '../../local/up.ts';
import { UsageError } from '../errors.ts';

const LocalUpFlags = z.strictObject({
  dataDir: z.string().min(1).default('.data/winfleet'),
  port: z.coerce.number().int().min(0).max(65_535).default(8787),
  sites: z.coerce.number().int().min(1).max(200).default(3),
  devices: z.coerce.number().int().min(1).max(10_000).default(100),
  latencyMs: z.coerce.number().int().min(0).max(60_000).default(0),
  subnetBase: z.coerce.number().int().min(1).max(254).default(20),
  sweep: z.boolean().default(true),
});
export type LocalUpFlags = z.infer<typeof LocalUpFlags>;

/** `winfleet local up`: the embedded stack (DESIGN.md contract 2). */
export function registerLocalCommand(program: Command): void {
  const local = program.command('local').description('the embedded stack on this machine');
  local
    .command('up')
    .description('start emulators, API, connectors and a simulated fleet; run one status sweep')
    .option('--data-dir <dir>', 'folder for tables, archives, logs, API token (.data/winfleet)')
    .option('--port <n>', 'port of the local API; 0 picks a free one (default 8787)')
    .option('--sites <n>', 'simulated sites (default 3)')
    .option('--devices <n>', 'simulated devices per site (default 100)')
    .option('--latency-ms <n>', 'latency added to every WinRM exchange (default 0)')
    .option('--subnet-base <n>', 'site N simulates devices on 127.<n+N-1>.0.0/16 (default 20)')
    .option('--no-sweep', 'do not run the first status sweep')
    .action(async (raw: Record<string, unknown>) => {
      const parsed = LocalUpFlags.safeParse(raw);
      if (!parsed.success) throw new UsageError(z.prettifyError(parsed.error));
      const { sites, subnetBase } = parsed.data;
      if (subnetBase + sites - 1 > 254) {
        throw new UsageError(`--subnet-base ${subnetBase} leaves no room for ${sites} sites`);
      }
      await runLocalUp({ ...parsed.data, dataDir: resolve(parsed.data.dataDir) });
    });
}
