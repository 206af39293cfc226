import type { Command } from 'commander';
import { z } from 'zod';
import { SiteConfigFile } from '../../shared/schemas/site.ts';
import { InputError, issuesText } from '../errors.ts';
import { readInputFile } from '../read-input.ts';
import { formatTable } from '../table.ts';
import { clientFrom, parseFlags, withConnectionOptions } from './api-options.ts';

const JsonFlag = z.strictObject({ json: z.boolean().optional() });

/** `winfleet sites apply FILE` and `winfleet sites list`. */
export function registerSitesCommand(program: Command): void {
  const sites = program.command('sites').description('configure and list sites');
  withConnectionOptions(
    sites
      .command('apply')
      .description('register or replace each site of a sites file ({"sites": [...]}, as the seed)')
      .argument('<file>', 'the JSON sites file'),
  ).action(async (file: string, options: Record<string, unknown>) => {
    const config = await readSitesFile(file);
    const api = await clientFrom(options);
    for (const site of config.sites) {
      await api.putSite(site);
      process.stdout.write(`site ${site.siteId} applied\n`);
    }
  });
  withConnectionOptions(
    sites
      .command('list')
      .description("sites with their connectors' health and queue depth")
      .option('--json', 'print the sites as a JSON array'),
  ).action(async (options: Record<string, unknown>) => {
    const flags = parseFlags(JsonFlag, options);
    const found = await (await clientFrom(options)).sites();
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(found)}\n`);
      return;
    }
    const rows = found.map((s) => [
      s.siteId,
      s.name,
      s.connectorLastSeenAt,
      s.connectorVersion,
      s.queueDepth,
      s.queueInFlight,
    ]);
    const header = ['site', 'name', 'connector seen', 'version', 'queued', 'in flight'];
    process.stdout.write(`${formatTable(header, rows, { rightAligned: [4, 5] })}\n`);
  });
}

/** A sites file validated by the seed's schema: unknown keys and bad values are errors. */
async function readSitesFile(file: string): Promise<SiteConfigFile> {
  const text = await readInputFile(file);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${file} is not JSON`, { cause: error });
  }
  const parsed = SiteConfigFile.safeParse(json);
  if (!parsed.success) throw new InputError(`${file}: ${issuesText(parsed.error)}`);
  const ids = parsed.data.sites.map((s) => s.siteId);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate) throw new InputError(`${file} names site ${duplicate} twice`);
  return parsed.data;
}
