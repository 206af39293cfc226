import type { Command } from 'commander';
import { z } from 'zod';
import { DeviceState } from '../../shared/schemas/result.ts';
import { SiteId } from '../../shared/schemas/site.ts';
import { readInputFile } from '../read-input.ts';
import { formatTable } from '../table.ts';
import { clientFrom, parseFlags, withConnectionOptions } from './api-options.ts';

const ImportFlags = z.strictObject({ site: SiteId.optional() });
const ListFlags = z.strictObject({
  site: SiteId.optional(),
  status: DeviceState.optional(),
  json: z.boolean().optional(),
});

/** `winfleet devices import FILE` and `winfleet devices list`. */
export function registerDevicesCommand(program: Command): void {
  const devices = program.command('devices').description('register and list devices');
  withConnectionOptions(
    devices
      .command('import')
      .description(
        'register devices from CSV: an Active Directory export (Get-ADComputer | Export-Csv: ' +
          'Name, DNSHostName, IPv4Address, Enabled) or computerName,address,siteId[,tags]',
      )
      .argument('<file>', 'the CSV file')
      .option('--site <siteId>', 'the site of rows without a siteId column'),
  ).action(async (file: string, options: Record<string, unknown>) => {
    const flags = parseFlags(ImportFlags, options);
    const csv = await readInputFile(file);
    const summary = await (await clientFrom(options)).importDevices(csv, { siteId: flags.site });
    const skipped = summary.skipped ? `, ${summary.skipped} disabled skipped` : '';
    process.stdout.write(
      `imported ${summary.imported} devices: ${summary.created} new, ${summary.updated} updated${skipped}\n`,
    );
  });
  withConnectionOptions(
    devices
      .command('list')
      .description('registered devices with their last state')
      .option('--site <siteId>', 'only this site')
      .option('--status <state>', 'only devices whose last result is in this state')
      .option('--json', 'print the devices as a JSON array'),
  ).action(async (options: Record<string, unknown>) => {
    const flags = parseFlags(ListFlags, options);
    const api = await clientFrom(options);
    const found = await api.allDevices({ siteId: flags.site, status: flags.status });
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(found)}\n`);
      return;
    }
    const rows = found.map((d) => [
      d.deviceId,
      d.siteId,
      `${d.address}:${d.port}`,
      d.lastStatus,
      d.lastSeenAt,
      Object.entries(d.tags)
        .map(([k, v]) => `${k}=${v}`)
        .join(';'),
    ]);
    const header = ['device', 'site', 'address', 'last state', 'last seen', 'tags'];
    process.stdout.write(`${formatTable(header, rows)}\n${found.length} device(s)\n`);
  });
}
