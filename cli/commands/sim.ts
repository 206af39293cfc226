import { constants } from 'node:fs';
import { access, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { createLogger } from '../../shared/logger.ts';
import { fleetCsv, startFleet } from '../../sim/index.ts';
import { InputError } from '../errors.ts';
import { parseFlags } from './api-options.ts';

const SimFlags = z.strictObject({
  devices: z.coerce.number().int().min(1).max(60_000),
  subnet: z
    .string()
    .regex(/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}\/\d{1,2}$/, 'a loopback subnet like 127.20.0.0/16')
    .default('127.20.0.0/16'),
  port: z.coerce.number().int().min(1).max(65_535).default(5985),
  latencyMs: z.coerce.number().int().min(0).max(60_000).default(0),
  user: z.string().min(1).default('winfleet'),
  password: z.string().min(1).default('winfleet'),
  fleetOut: z.string().min(1).default('fleet.csv'),
  siteId: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'a slug such as site-alpha')
    .optional(),
  namePrefix: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/)
    .default('WS'),
});
export type SimFlags = z.infer<typeof SimFlags>;

/** `winfleet sim`: a standalone simulated fleet on loopback (DESIGN.md contract 5). */
export function registerSimCommand(program: Command): void {
  program
    .command('sim')
    .description('Run a simulated fleet of Windows devices speaking WinRM on loopback addresses')
    .requiredOption('--devices <n>', 'number of simulated devices')
    .option('--subnet <cidr>', 'loopback subnet the addresses come from (default 127.20.0.0/16)')
    .option('--port <n>', 'port every device listens on (default 5985)')
    .option('--latency-ms <n>', 'latency added to every WinRM exchange (default 0)')
    .option('--user <user>', 'Basic auth user every device accepts (default winfleet)')
    .option('--password <password>', 'Basic auth password (default winfleet)')
    .option('--fleet-out <file>', 'where to write the fleet as CSV (default ./fleet.csv)')
    .option('--site-id <siteId>', 'site id written in the CSV')
    .option('--name-prefix <prefix>', 'computer name prefix (default WS: WS-0001, ...)')
    .action((raw: Record<string, unknown>) => runSim(parseFlags(SimFlags, raw)));
}

/**
 * Starts the fleet, writes its CSV, and serves until SIGINT or SIGTERM. A CSV path that cannot
 * be written fails before any device starts.
 */
export async function runSim(flags: SimFlags): Promise<void> {
  const logger = createLogger('sim');
  const csvPath = resolve(flags.fleetOut);
  await checkWritable(csvPath);
  const fleet = await startFleet({ ...flags, logger });
  try {
    await writeFile(csvPath, fleetCsv(fleet.devices));
  } catch (error) {
    await fleet.close();
    throw new InputError(`cannot write the fleet CSV to ${csvPath}`, { cause: error });
  }
  const first = fleet.devices[0]?.address;
  const last = fleet.devices[fleet.devices.length - 1]?.address;
  process.stdout.write(
    `simulated fleet: ${fleet.devices.length} devices on ${first} to ${last}, ` +
      `port ${flags.port}, user ${flags.user}\nfleet written to ${csvPath}\n`,
  );

  await new Promise<void>((done) => {
    const stop = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'fleet stopping');
      done();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await fleet.close();
}

/** Throws `InputError` when `file` is a directory or its folder is missing or not writable. */
async function checkWritable(file: string): Promise<void> {
  const fail = (cause?: unknown) =>
    new InputError(`cannot write the fleet CSV to ${file}`, cause ? { cause } : undefined);
  const existing = await stat(file).catch(() => undefined);
  if (existing?.isDirectory()) throw fail(new Error('it is a directory'));
  try {
    const folder = await stat(dirname(file));
    if (!folder.isDirectory()) throw new Error(`${dirname(file)} is not a directory`);
    await access(existing ? file : dirname(file), constants.W_OK);
  } catch (error) {
    throw fail(error);
  }
}
