/**
 * `npm run bench`: the figures of issue 6 item 4, printed as a table against the targets and
 * written to bench/results/latest.json.
 *
 *   npm run bench -- [--runs N] [--parts 1,2,3] [--profile] [--save]
 *
 * --profile writes CPU profiles to bench/results/profiles/ and adds their heaviest entries to
 * the JSON; --save also writes bench/results/<date>.json.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { type ArchiveFigures, archiveFigures } from './archive-figures.ts';
import { type FigureRow, fixed, formatTable } from './figures.ts';
import { fdLimits } from './proc.ts';
import { connectorMemory, summarizeProfiles } from './profile-summary.ts';
import { runSiteBench, type SiteBenchFigures } from './site-bench.ts';
import { runStackSweeps, type StackRun } from './stack-sweep.ts';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const SITE = { devices: 1000, latencyMs: 20, throttleLimit: 50, subnet: '127.100.0.0/16' };
const STACK = { sites: 10, devicesPerSite: 1000, latencyMs: 20, subnetBase: 100 };
const TARGET = {
  latencyBoundFraction: 0.8,
  pywinrmRatio: 5,
  sweepSeconds: 60,
  connectorRssMb: 200,
  archiveRowsPerSecond: 150_000,
};

const Flags = z.strictObject({
  runs: z.coerce.number().int().min(1).max(10).default(2),
  profile: z.boolean().default(false),
  /** Which of the three parts to run, comma separated. */
  parts: z
    .string()
    .regex(/^[123](,[123])*$/)
    .default('1,2,3')
    .transform((text) => new Set(text.split(',').map(Number))),
  save: z.boolean().default(false),
});

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      profile: { type: 'boolean' },
      parts: { type: 'string' },
      save: { type: 'boolean' },
    },
  });
  const flags = Flags.parse(values);
  const profileDir = flags.profile ? join(RESULTS_DIR, 'profiles') : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const machine = machineFigures();
  print(`machine: ${machine.cores} cores, load average ${machine.loadAverage.join(' ')} at start`);

  let site: SiteBenchFigures | undefined;
  if (flags.parts.has(1)) {
    print(
      `\n1. one site: ${SITE.devices} devices, ${SITE.latencyMs} ms per exchange, throttle ${SITE.throttleLimit}`,
    );
    print('   (simulator in its own process; clients: winfleet connector code, pywinrm)');
    site = await runSiteBench({ ...SITE, runs: flags.runs, profileDir });
    printSite(site);
  }

  let archive: ArchiveFigures | undefined;
  if (flags.parts.has(2)) {
    print('\n2. archive inserts');
    archive = await archiveFigures();
    print(archive ? formatArchive(archive) : '   bench/archive-insert.ts not present: skipped');
  }

  let stack: StackRun | undefined;
  if (flags.parts.has(3)) {
    print(
      `\n3. local stack: ${STACK.sites} sites x ${STACK.devicesPerSite} devices, ${STACK.latencyMs} ms per exchange`,
    );
    print('   (the simulated fleet, emulators and gateway run inside this bench process)');
    stack = await runStackSweeps({ ...STACK, profileDir }, [
      { type: 'status', targets: { siteIds: ['site-01'] }, force: true },
      { type: 'status', targets: { all: true }, force: true },
    ]);
    printStack(stack);
  }

  const rows = tableRows(site, archive, stack);
  print(`\nsummary\n${formatTable(rows)}`);
  const profiles = profileDir
    ? { cpu: summarizeProfiles(profileDir), connectorPeakMemoryMb: connectorMemory(profileDir) }
    : undefined;
  const results = { date: new Date().toISOString(), machine, site, archive, stack, rows, profiles };
  writeResults(results, flags.save);
}

function machineFigures() {
  return {
    cores: availableParallelism(),
    loadAverage: loadavg().map((n) => Math.round(n * 100) / 100),
    node: process.version,
    openFilesLimit: fdLimits('self'),
  };
}

function printSite(site: SiteBenchFigures): void {
  const w = site.winfleet;
  print(
    `   winfleet, first sweep: ${fixed(w.seconds)} s to the last result (runs ${w.allSeconds.map((s) => fixed(s)).join(', ')}), ${JSON.stringify(w.outcomes)}`,
  );
  print(
    `     exchanges ${JSON.stringify(w.exchanges)}; ${fixed(w.criticalExchangesPerDevice)} per device before the result (Create, Command, Receive), Signal in the background`,
  );
  print(
    `     latency-bound limit ${fixed(w.latencyBoundSeconds)} s, reached ${pct(w.latencyBoundSeconds / w.seconds)}`,
  );
  const warm = w.warm;
  print(
    `   winfleet, second sweep (shells reused): ${fixed(warm.seconds)} s, ${fixed(warm.criticalExchangesPerDevice)} exchanges per device before the result, limit ${fixed(warm.latencyBoundSeconds)} s, reached ${pct(warm.latencyBoundSeconds / warm.seconds)}`,
  );
  print(
    `   close after both: ${fixed(w.closeSeconds)} s, ${JSON.stringify(w.closeExchanges)} (queued clean-up and the shells' Deletes)`,
  );
  print(
    `     CPU of both sweeps and close: client ${fixed(w.clientCpuSeconds)} s, simulator ${fixed(w.simulatorCpuSeconds)} s`,
  );
  const p = site.pywinrm;
  if (!p) {
    print('   pywinrm: /usr/bin/python3 cannot import winrm: skipped');
    return;
  }
  print(
    `   pywinrm (50 threads): ${fixed(p.seconds)} s (runs ${p.allSeconds.map((s) => fixed(s)).join(', ')}), ${JSON.stringify(p.outcomes)}`,
  );
  print(
    `     exchanges ${JSON.stringify(p.exchanges)} = ${fixed(p.exchangesPerDevice)} per device`,
  );
  print(
    `     its latency-bound limit ${fixed(p.latencyBoundSeconds)} s; CPU: python ${fixed(p.clientCpuSeconds)} s, simulator ${fixed(p.simulatorCpuSeconds)} s`,
  );
  print(
    `   winfleet is ${fixed(p.seconds / w.seconds)}x faster than pywinrm (${fixed(p.seconds / warm.seconds)}x with shells reused); at winfleet's latency-bound limit it would be ${fixed(p.seconds / w.latencyBoundSeconds)}x (${fixed(p.seconds / warm.latencyBoundSeconds)}x)`,
  );
}

function formatArchive(archive: ArchiveFigures): string {
  return archive.cases
    .map((c) => {
      const cpu = c.rowsPerCpuSecond ? ` (per CPU second: ${rate(c.rowsPerCpuSecond)})` : '';
      return `   ${c.name.padEnd(48)} ${rate(c.rowsPerSecond)} rows/s${cpu}`;
    })
    .join('\n');
}

function printStack(stack: StackRun): void {
  const limit = stack.openFilesLimit;
  print(
    `   stack started in ${fixed(stack.startSeconds, 1)} s; open files limit ${limit?.soft}/${limit?.hard} (soft/hard)`,
  );
  for (const sweep of stack.sweeps) {
    const rss = sweep.connectors.map((c) => c.peakRssMb ?? 0);
    const cpu = sweep.connectors.map((c) => c.cpuSeconds ?? 0);
    print(
      `   ${sweep.devices} devices: accepted (202) in ${fixed(sweep.secondsToAccept, 2)} s, last result ${fixed(sweep.secondsToLastResult, 1)} s after the request, final status seen at ${fixed(sweep.secondsToFinalStatus, 1)} s, ${sweep.status} ${JSON.stringify(sweep.counts)}`,
    );
    if (Object.keys(sweep.failures).length > 0) {
      print(`     not Success: ${JSON.stringify(sweep.failures)}`);
    }
    print(`     connectors: peak RSS ${range(rss)} MB, CPU ${range(cpu)} s each`);
    print(
      `     stack process: CPU ${fixed(sweep.stackProcess.cpuSeconds, 1)} s, peak RSS ${fixed(sweep.stackProcess.peakRssMb, 0)} MB, peak open files ${sweep.stackProcess.peakOpenFds}`,
    );
  }
}

function tableRows(
  site: SiteBenchFigures | undefined,
  archive: ArchiveFigures | undefined,
  stack: StackRun | undefined,
): FigureRow[] {
  const rows = site ? siteRows(site) : [];
  if (archive) {
    rows.push({
      figure: `archive inserts (${archive.headline.name})`,
      value: `${Math.round(archive.headline.rowsPerSecond).toLocaleString('en')}/s`,
      target: `>= ${TARGET.archiveRowsPerSecond.toLocaleString('en')}/s`,
      ratio: archive.headline.rowsPerSecond / TARGET.archiveRowsPerSecond,
    });
  }
  const sweep = stack?.sweeps.at(-1);
  if (sweep) rows.push(...sweepRows(sweep));
  return rows;
}

function siteRows(site: SiteBenchFigures): FigureRow[] {
  const w = site.winfleet;
  const fraction = w.latencyBoundSeconds / w.seconds;
  const rows: FigureRow[] = [
    { figure: '1k site, winfleet (s)', value: fixed(w.seconds) },
    { figure: '1k site, winfleet, shells reused (s)', value: fixed(w.warm.seconds) },
    { figure: '1k site, latency-bound limit (s)', value: fixed(w.latencyBoundSeconds) },
    {
      figure: '1k site, fraction of the limit',
      value: pct(fraction),
      target: `>= ${pct(TARGET.latencyBoundFraction)}`,
      ratio: fraction / TARGET.latencyBoundFraction,
    },
  ];
  if (site.pywinrm) {
    const speedup = site.pywinrm.seconds / w.seconds;
    rows.push(
      { figure: '1k site, pywinrm 50 threads (s)', value: fixed(site.pywinrm.seconds) },
      {
        figure: '1k site, speed-up over pywinrm',
        value: `${fixed(speedup)}x`,
        target: `>= ${TARGET.pywinrmRatio}x`,
        ratio: speedup / TARGET.pywinrmRatio,
      },
      {
        figure: '1k site, speed-up over pywinrm, shells reused',
        value: `${fixed(site.pywinrm.seconds / w.warm.seconds)}x`,
        target: `>= ${TARGET.pywinrmRatio}x`,
        ratio: site.pywinrm.seconds / w.warm.seconds / TARGET.pywinrmRatio,
      },
    );
  }
  return rows;
}

function sweepRows(sweep: StackRun['sweeps'][number]): FigureRow[] {
  const maxRss = Math.max(...sweep.connectors.map((c) => c.peakRssMb ?? 0));
  return [
    {
      figure: `${sweep.devices / 1000}k sweep, request to last result (s)`,
      value: fixed(sweep.secondsToLastResult, 1),
      target: `<= ${TARGET.sweepSeconds}`,
      ratio: TARGET.sweepSeconds / sweep.secondsToLastResult,
    },
    {
      figure: `${sweep.devices / 1000}k sweep, largest connector peak RSS (MB)`,
      value: fixed(maxRss, 0),
      target: `< ${TARGET.connectorRssMb}`,
      ratio: TARGET.connectorRssMb / maxRss,
    },
  ];
}

function writeResults(results: object, save: boolean): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const text = `${JSON.stringify(results, null, 2)}\n`;
  writeFileSync(join(RESULTS_DIR, 'latest.json'), text);
  if (save) writeFileSync(join(RESULTS_DIR, `${new Date().toISOString().slice(0, 10)}.json`), text);
  print(`\nwritten to ${join(RESULTS_DIR, 'latest.json')}${save ? ' and a dated copy' : ''}`);
}

function rate(rowsPerSecond: number): string {
  return Math.round(rowsPerSecond).toLocaleString('en');
}

function range(values: number[]): string {
  return `${fixed(Math.min(...values), 0)} to ${fixed(Math.max(...values), 0)}`;
}

function pct(fraction: number): string {
  return `${(fraction * 100).toFixed(0)}%`;
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

if (!existsSync(RESULTS_DIR)) mkdirSync(RESULTS_DIR, { recursive: true });
await main();
