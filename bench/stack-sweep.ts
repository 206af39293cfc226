import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiClient } from '../cli/api-client.ts';
import { type LocalStack, startLocalStack } from '../local/stack.ts';
import { waitForOperation } from '../local/wait.ts';
import { createLogger } from '../shared/logger.ts';
import type { OperationRequest } from '../shared/schemas/operation.ts';
import { withCpuProfile } from './cpu-profile.ts';
import { cpuSeconds, fdLimits, openFds, peakRssBytes } from './proc.ts';

const CONNECTOR_PROFILER = fileURLToPath(new URL('./connector-profiler.mjs', import.meta.url));

export interface StackOptions {
  sites: number;
  devicesPerSite: number;
  latencyMs: number;
  /** Second octet of the first site's loopback /16. */
  subnetBase: number;
  /**
   * Where CPU profiles go: the last sweep's profile of this process, and each connector's
   * whole-life profile and peak memory use (bench/connector-profiler.mjs, written at exit).
   */
  profileDir?: string;
}

export interface ConnectorFigures {
  siteId: string;
  pid: number | undefined;
  /** VmHWM of the connector process at the end of the sweep. */
  peakRssMb: number | undefined;
  /** utime + stime spent during the sweep. */
  cpuSeconds: number | undefined;
}

export interface SweepFigures {
  devices: number;
  /** From the POST /operations request to the latest result's finishedAt. */
  /** From the request to the API's 202 (targets resolved, plan written, dispatch started). */
  secondsToAccept: number;
  secondsToLastResult: number;
  /** From the POST /operations request to the poll that saw the final status (250 ms polls). */
  secondsToFinalStatus: number;
  status: string;
  counts: Record<string, number>;
  connectors: ConnectorFigures[];
  /** The stack process: gateway, handlers, emulators and the simulated fleet. */
  stackProcess: { cpuSeconds: number; peakRssMb: number; peakOpenFds: number };
  /** Non-success results by error message (first 120 characters), the five most frequent. */
  failures: Record<string, number>;
  /** Share of one core used, sampled each second: this process, and every connector summed. */
  coreUse: { stack: number[]; connectors: number[] };
}

export interface StackRun {
  startSeconds: number;
  openFilesLimit: { soft: number; hard: number } | undefined;
  /** Figures of each sweep, in the order asked. */
  sweeps: SweepFigures[];
}

/**
 * Starts the local stack (simulated fleet in this process, one connector process per site) and
 * runs the given operations one after the other over the HTTP API, measuring each.
 */
export async function runStackSweeps(
  options: StackOptions,
  requests: OperationRequest[],
): Promise<StackRun> {
  const dataDir = mkdtempSync(join(tmpdir(), 'winfleet-bench-'));
  // The handlers log into the data dir, not onto the bench's output.
  process.env.WINFLEET_LOG_FILE = join(dataDir, 'logs', 'local.log');
  const savedNodeOptions = process.env.NODE_OPTIONS;
  if (options.profileDir) {
    // --cpu-prof is not allowed in NODE_OPTIONS; a preloaded module does the same.
    process.env.WINFLEET_BENCH_PROFILE_DIR = options.profileDir;
    const flags = `--import=${CONNECTOR_PROFILER}`;
    process.env.NODE_OPTIONS = [savedNodeOptions, flags].filter(Boolean).join(' ');
  }
  const startedMs = performance.now();
  const stack = await startLocalStack({
    dataDir,
    port: 0,
    sites: options.sites,
    devicesPerSite: options.devicesPerSite,
    latencyMs: options.latencyMs,
    subnetBase: options.subnetBase,
    schedules: false,
    logger: createLogger('bench', { level: 'warn' }),
  });
  try {
    const startSeconds = (performance.now() - startedMs) / 1000;
    const sweeps: SweepFigures[] = [];
    restoreNodeOptions(savedNodeOptions);
    for (const [i, request] of requests.entries()) {
      const last = i === requests.length - 1 && options.profileDir;
      const profile = last ? join(options.profileDir ?? '', 'stack-process.cpuprofile') : undefined;
      sweeps.push(await withCpuProfile(profile, () => measureSweep(stack, request)));
    }
    const run = { startSeconds, openFilesLimit: fdLimits('self'), sweeps };
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
    return run;
  } catch (error) {
    await stack.stop();
    throw new Error(`stack sweep failed; logs kept in ${dataDir}/logs`, { cause: error });
  } finally {
    restoreNodeOptions(savedNodeOptions);
  }
}

function restoreNodeOptions(saved: string | undefined): void {
  if (saved === undefined) delete process.env.NODE_OPTIONS;
  else process.env.NODE_OPTIONS = saved;
}

async function measureSweep(stack: LocalStack, request: OperationRequest): Promise<SweepFigures> {
  const api = new ApiClient(stack.url, stack.token);
  const pids = stack.supervisor.pids();
  const cpuBefore = new Map(
    [...pids].map(([siteId, pid]) => [siteId, pid ? cpuSeconds(pid) : undefined]),
  );
  const selfCpuBefore = cpuSeconds('self') ?? 0;
  const fds = new PeakSampler(() => openFds('self') ?? 0);
  const coreUse = new CoreUseSampler(() => [...stack.supervisor.pids().values()]);

  const requestedMs = Date.now();
  const accepted = await api.submit(request);
  const secondsToAccept = (Date.now() - requestedMs) / 1000;
  const operation = await waitForOperation(api, accepted.operationId, { pollMs: 250 });
  const secondsToFinalStatus = (Date.now() - requestedMs) / 1000;
  fds.stop();
  coreUse.stop();
  const connectors = [...stack.supervisor.pids()].map(([siteId, pid]) => {
    const before = cpuBefore.get(siteId);
    const after = pid ? cpuSeconds(pid) : undefined;
    const rss = pid ? peakRssBytes(pid) : undefined;
    return {
      siteId,
      pid,
      peakRssMb: rss === undefined ? undefined : rss / 2 ** 20,
      cpuSeconds: after === undefined || before === undefined ? undefined : after - before,
    };
  });
  const selfCpu = (cpuSeconds('self') ?? 0) - selfCpuBefore;

  const results = await api.allResults(accepted.operationId);
  const lastFinishedMs = Math.max(...results.map((r) => Date.parse(r.finishedAt ?? '') || 0));
  return {
    devices: accepted.total,
    secondsToAccept,
    secondsToLastResult: (lastFinishedMs - requestedMs) / 1000,
    secondsToFinalStatus,
    status: operation.status,
    counts: operation.counts,
    failures: topFailures(results),
    connectors,
    stackProcess: {
      cpuSeconds: selfCpu,
      peakRssMb: (peakRssBytes('self') ?? 0) / 2 ** 20,
      peakOpenFds: fds.peak,
    },
    coreUse: { stack: coreUse.stack, connectors: coreUse.connectors },
  };
}

function topFailures(results: Array<{ status: string; error?: string }>): Record<string, number> {
  const counts = new Map<string, number>();
  for (const r of results) {
    if (r.status === 'Success') continue;
    const key = `${r.status}: ${(r.error ?? '').slice(0, 120)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]).slice(0, 5));
}

/**
 * Samples a value every 2 s and keeps its maximum. Listing /proc/self/fd with 20,000 entries
 * costs milliseconds: at 200 ms it took 7% of the stack process's time.
 */
class PeakSampler {
  peak = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(sample: () => number) {
    const take = () => {
      this.peak = Math.max(this.peak, sample());
    };
    take();
    this.#timer = setInterval(take, 2000);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** Each second, the share of a core this process and the connector processes used. */
class CoreUseSampler {
  readonly stack: number[] = [];
  readonly connectors: number[] = [];
  readonly #timer: NodeJS.Timeout;

  constructor(pids: () => Array<number | undefined>) {
    let last = { at: performance.now(), stack: cpuSeconds('self') ?? 0, connectors: sum(pids()) };
    this.#timer = setInterval(() => {
      const now = {
        at: performance.now(),
        stack: cpuSeconds('self') ?? 0,
        connectors: sum(pids()),
      };
      const seconds = (now.at - last.at) / 1000;
      this.stack.push(round((now.stack - last.stack) / seconds));
      this.connectors.push(round((now.connectors - last.connectors) / seconds));
      last = now;
    }, 1000);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

function sum(pids: Array<number | undefined>): number {
  return pids.reduce<number>((total, pid) => total + ((pid && cpuSeconds(pid)) || 0), 0);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
