import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withCpuProfile } from './cpu-profile.ts';
import { sumCounts } from './figures.ts';
import { cpuSeconds } from './proc.ts';
import { type PywinrmFigures, pywinrmAvailable, runPywinrm } from './pywinrm.ts';
import { startSimProcess } from './sim-process.ts';
import { runSiteThroughConnector, type SiteRunFigures } from './site-run.ts';

const USER = 'bench';
const PASSWORD = 'bench-password';

export interface SiteBenchOptions {
  devices: number;
  latencyMs: number;
  throttleLimit: number;
  subnet: string;
  /** Runs of each client; the fastest is reported (the machine is shared). */
  runs: number;
  profileDir?: string;
}

export interface ClientFigures {
  /** Fastest run, from the first request to the last result, shells deleted. */
  seconds: number;
  allSeconds: number[];
  /** WS-Management exchanges of the fastest run by action, Deletes included. */
  exchanges: Record<string, number>;
  exchangesPerDevice: number;
  /** exchangesPerDevice × latency × devices / throttle. */
  latencyBoundSeconds: number;
  outcomes: Record<string, number>;
  /** CPU time of the simulator process during the fastest run. */
  simulatorCpuSeconds: number;
  /** CPU time of the client process during the fastest run. */
  clientCpuSeconds: number;
}

/** Actions a result waits for; Signal and Delete run in the background clean-up queue. */
const CRITICAL_ACTIONS = new Set(['Create', 'Command', 'Send', 'Receive']);

export interface WinfleetSweepFigures {
  /** From the first device started to the last result. */
  seconds: number;
  /** Exchanges during the sweep by action, background clean-up included. */
  exchanges: Record<string, number>;
  /** Create, Command, Send and Receive per device: the exchanges a result waits for. */
  criticalExchangesPerDevice: number;
  /** criticalExchangesPerDevice × latency × devices / throttle. */
  latencyBoundSeconds: number;
  outcomes: Record<string, number>;
}

export interface SiteBenchFigures {
  /**
   * The first (cold) sweep: `seconds` is to the last result, `exchangesPerDevice` counts every
   * exchange of the sweep (the background Signals included) plus the shell Deletes at close,
   * `latencyBoundSeconds` counts only the critical exchanges.
   */
  winfleet: ClientFigures & {
    criticalExchangesPerDevice: number;
    /** The same devices again on the same transport right after: shells reused. */
    warm: WinfleetSweepFigures;
    /** Closing the transport after both sweeps: queued clean-up and the shells' Deletes. */
    closeSeconds: number;
    closeExchanges: Record<string, number>;
  };
  pywinrm?: ClientFigures;
}

/**
 * One simulated site in its own process, swept with the status script by winfleet's connector
 * code and then by pywinrm with a thread pool of the same size as the throttle.
 */
export async function runSiteBench(options: SiteBenchOptions): Promise<SiteBenchFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'winfleet-bench-site-'));
  const sim = await startSimProcess({
    devices: options.devices,
    subnet: options.subnet,
    latencyMs: options.latencyMs,
    user: USER,
    password: PASSWORD,
    dir,
  });
  try {
    const winfleet = await best(options.runs, (run) => {
      const profile =
        options.profileDir && join(options.profileDir, `site-client-${run}.cpuprofile`);
      return measure(sim.pid, 'self', () =>
        withCpuProfile(profile || undefined, () =>
          runSiteThroughConnector(sim.devices, {
            throttleLimit: options.throttleLimit,
            user: USER,
            password: PASSWORD,
          }),
        ),
      );
    });
    const pywinrm = pywinrmAvailable()
      ? await best(options.runs, () =>
          measure(sim.pid, undefined, () =>
            runPywinrm({
              csvPath: sim.csvPath,
              dir,
              user: USER,
              password: PASSWORD,
              threads: options.throttleLimit,
            }),
          ),
        )
      : undefined;
    return {
      winfleet: winfleetFigures(winfleet, options),
      ...(pywinrm ? { pywinrm: pywinrmFigures(pywinrm, options) } : {}),
    };
  } finally {
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Measured<T> {
  figures: T;
  all: number[];
  simulatorCpuSeconds: number;
  clientCpuSeconds: number;
}

async function measure<T>(simPid: number, clientPid: 'self' | undefined, work: () => Promise<T>) {
  const sim = cpuSeconds(simPid) ?? 0;
  const client = clientPid ? (cpuSeconds(clientPid) ?? 0) : 0;
  const figures = await work();
  return {
    figures,
    simulatorCpuSeconds: (cpuSeconds(simPid) ?? 0) - sim,
    clientCpuSeconds: clientPid ? (cpuSeconds(clientPid) ?? 0) - client : 0,
  };
}

type Timed = { seconds: number } | { cold: { seconds: number } };

/** The time a run is ranked by: pywinrm's whole run, winfleet's cold sweep to its last result. */
function totalSeconds(figures: Timed): number {
  return 'cold' in figures ? figures.cold.seconds : figures.seconds;
}

async function best<T extends Timed>(
  runs: number,
  once: (run: number) => Promise<Omit<Measured<T>, 'all'>>,
): Promise<Measured<T>> {
  const results: Array<Omit<Measured<T>, 'all'>> = [];
  for (let run = 1; run <= runs; run += 1) results.push(await once(run));
  const all = results.map((r) => totalSeconds(r.figures));
  const fastest = results.reduce((a, b) =>
    totalSeconds(b.figures) < totalSeconds(a.figures) ? b : a,
  );
  return { ...fastest, all };
}

function bound(perDevice: number, options: SiteBenchOptions): number {
  return (perDevice * options.latencyMs * options.devices) / options.throttleLimit / 1000;
}

function winfleetFigures(m: Measured<SiteRunFigures>, options: SiteBenchOptions) {
  const f = m.figures;
  const cold = sweepFigures(f.cold, options);
  const deletes = f.closeExchanges.Delete ?? 0;
  return {
    seconds: cold.seconds,
    allSeconds: m.all,
    exchanges: cold.exchanges,
    exchangesPerDevice: (sumCounts(cold.exchanges) + deletes) / options.devices,
    criticalExchangesPerDevice: cold.criticalExchangesPerDevice,
    latencyBoundSeconds: cold.latencyBoundSeconds,
    outcomes: cold.outcomes,
    warm: sweepFigures(f.warm, options),
    closeSeconds: f.closeSeconds,
    closeExchanges: f.closeExchanges,
    simulatorCpuSeconds: m.simulatorCpuSeconds,
    clientCpuSeconds: m.clientCpuSeconds,
  };
}

function sweepFigures(sweep: SiteRunFigures['cold'], options: SiteBenchOptions) {
  const critical = Object.entries(sweep.exchanges)
    .filter(([action]) => CRITICAL_ACTIONS.has(action))
    .reduce((total, [, n]) => total + n, 0);
  const perDevice = critical / options.devices;
  return {
    seconds: sweep.seconds,
    exchanges: sweep.exchanges,
    criticalExchangesPerDevice: perDevice,
    latencyBoundSeconds: bound(perDevice, options),
    outcomes: sweep.statuses,
  };
}

function pywinrmFigures(m: Measured<PywinrmFigures>, options: SiteBenchOptions): ClientFigures {
  const f = m.figures;
  const perDevice = sumCounts(f.exchanges) / options.devices;
  return {
    seconds: f.seconds,
    allSeconds: m.all,
    exchanges: f.exchanges,
    exchangesPerDevice: perDevice,
    latencyBoundSeconds: bound(perDevice, options),
    outcomes: f.outcomes,
    simulatorCpuSeconds: m.simulatorCpuSeconds,
    clientCpuSeconds: f.cpuSeconds,
  };
}
