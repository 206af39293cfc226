import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../shared/logger.ts';

const require = createRequire(import.meta.url);
const CONNECTOR_MAIN = fileURLToPath(new URL('../connector/main.ts', import.meta.url));
const TSX_LOADER = require.resolve('tsx');

export interface SupervisedConnector {
  siteId: string;
  configPath: string;
}

export interface SupervisorOptions {
  connectors: SupervisedConnector[];
  logger: Logger;
  /** First restart delay; it doubles for each quick successive death, up to maxRestartDelayMs. */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
  /** Where each connector's stdout and stderr go: a file descriptor per site, or inherit. */
  output?: (siteId: string) => number | 'inherit' | 'ignore';
  /** Grace period for SIGTERM before SIGKILL when stopping. */
  stopGraceMs?: number;
  /**
   * A bundle of `connector/main.ts` (see `bundleConnector`) run by plain `node`; without it
   * connectors run the TypeScript through the tsx loader.
   */
  bundlePath?: string;
}

interface Slot {
  connector: SupervisedConnector;
  child?: ChildProcess;
  restarts: number;
  delayMs: number;
  timer?: NodeJS.Timeout;
}

/**
 * Runs one connector process per site and restarts one that dies, with back-off, until stopped.
 * Connectors are separate OS processes so that one crashing site cannot take the others down.
 */
export class Supervisor {
  private readonly slots: Slot[];
  private stopping = false;

  constructor(private readonly options: SupervisorOptions) {
    const delayMs = options.restartDelayMs ?? 500;
    this.slots = options.connectors.map((connector) => ({ connector, restarts: 0, delayMs }));
  }

  start(): void {
    for (const slot of this.slots) this.spawn(slot);
  }

  /** The pid of each site's connector process now (undefined while it is being restarted). */
  pids(): Map<string, number | undefined> {
    return new Map(this.slots.map((s) => [s.connector.siteId, s.child?.pid]));
  }

  restartCount(siteId: string): number {
    return this.slots.find((s) => s.connector.siteId === siteId)?.restarts ?? 0;
  }

  /** Sends SIGTERM to every connector, then SIGKILL to those still alive after the grace period. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.slots.map((slot) => this.stopSlot(slot)));
  }

  private spawn(slot: Slot): void {
    const { siteId, configPath } = slot.connector;
    const out = this.options.output?.(siteId) ?? 'inherit';
    const entry = this.options.bundlePath
      ? [this.options.bundlePath]
      : ['--import', TSX_LOADER, CONNECTOR_MAIN];
    const child = spawn(process.execPath, [...entry, '--config', configPath], {
      stdio: ['ignore', out, out],
      env: connectorEnv(),
    });
    slot.child = child;
    const startedAt = Date.now();
    this.options.logger.info({ siteId, pid: child.pid }, 'connector started');
    child.once('exit', (code, signal) => this.onExit(slot, startedAt, code, signal));
  }

  private onExit(slot: Slot, startedAt: number, code: number | null, signal: string | null) {
    const siteId = slot.connector.siteId;
    slot.child = undefined;
    if (this.stopping) return;
    const maxDelayMs = this.options.maxRestartDelayMs ?? 30_000;
    // A connector that ran for a while before dying starts again at the first delay.
    const ranLong = Date.now() - startedAt > maxDelayMs;
    slot.delayMs = ranLong ? (this.options.restartDelayMs ?? 500) : slot.delayMs;
    this.options.logger.warn({ siteId, code, signal, restartInMs: slot.delayMs }, 'connector died');
    slot.timer = setTimeout(() => {
      slot.restarts += 1;
      if (!this.stopping) this.spawn(slot);
    }, slot.delayMs);
    slot.delayMs = Math.min(slot.delayMs * 2, maxDelayMs);
  }

  private stopSlot(slot: Slot): Promise<void> {
    clearTimeout(slot.timer);
    const child = slot.child;
    if (!child || child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), this.options.stopGraceMs ?? 10_000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}

/**
 * The connector's environment: this process's, less the log file its own output goes to, and
 * WINFLEET_EXIT_WITH_PARENT so that a connector does not outlive a supervisor killed with -9.
 */
function connectorEnv(): NodeJS.ProcessEnv {
  const { WINFLEET_LOG_FILE: _ignored, ...env } = process.env;
  return { ...env, WINFLEET_EXIT_WITH_PARENT: '1' };
}
