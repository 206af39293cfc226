import type { PowerShellProcess, PowerShellProcessFactory } from './process.ts';
import { CLOSE_ALL_COMMAND } from './script.ts';

export interface WorkerPoolOptions {
  /** Local PowerShell processes at most: the transport's throttle (one invocation each). */
  maxWorkers: number;
  /** Processes that may hold a PSSession to one device at once: its session pool. */
  maxSessionsPerDevice: number;
  /** PSSessions one process keeps; past it the least recently used one is closed. */
  maxSessionsPerWorker: number;
}

/** One local PowerShell process and the devices it holds PSSessions to (least recent first). */
export interface Worker {
  readonly process: PowerShellProcess;
  busy: boolean;
  readonly sessionKeys: string[];
}

/** A worker lent for one device, and the sessions it must close first to make room. */
export interface Lease {
  worker: Worker;
  evictKeys: string[];
}

/**
 * Lends local PowerShell processes to runs. A device's run prefers a free process that already
 * has a PSSession to it; a process without one is used only while fewer than
 * `maxSessionsPerDevice` processes hold a session to that device. Runs beyond that wait.
 */
export class WorkerPool {
  readonly #factory: PowerShellProcessFactory;
  readonly #options: WorkerPoolOptions;
  readonly #workers: Worker[] = [];
  readonly #waiters: Array<() => void> = [];

  constructor(factory: PowerShellProcessFactory, options: WorkerPoolOptions) {
    this.#factory = factory;
    this.#options = options;
  }

  get workers(): readonly Worker[] {
    return this.#workers;
  }

  async acquire(key: string, signal: AbortSignal): Promise<Lease> {
    for (;;) {
      signal.throwIfAborted();
      const lease = this.#tryAcquire(key);
      if (lease) return lease;
      await this.#waitForRelease(signal);
    }
  }

  /** Returns a worker; a broken one (timed out, crashed) is disposed instead. */
  async release(worker: Worker, healthy: boolean): Promise<void> {
    worker.busy = false;
    if (!healthy) await this.#dispose(worker);
    // Every waiter looks again: the worker freed may suit one device's run and not another's.
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Forgets the device's session in this worker (the run failed before it was usable). */
  forget(worker: Worker, key: string): void {
    remove(worker.sessionKeys, key);
  }

  /** Closes every PSSession and ends every process. */
  async close(): Promise<void> {
    const all = this.#workers.splice(0);
    await Promise.all(
      all.map(async (worker) => {
        await worker.process.invoke(CLOSE_ALL_COMMAND).catch(() => undefined);
        await worker.process.dispose().catch(() => undefined);
      }),
    );
  }

  #tryAcquire(key: string): Lease | undefined {
    const holders = this.#workers.filter((w) => w.sessionKeys.includes(key));
    const idleHolder = holders.find((w) => !w.busy);
    if (idleHolder) return this.#lend(idleHolder, key);
    if (holders.length >= this.#options.maxSessionsPerDevice) return undefined;
    const idle = this.#workers
      .filter((w) => !w.busy)
      .sort((a, b) => a.sessionKeys.length - b.sessionKeys.length)[0];
    if (idle) return this.#lend(idle, key);
    if (this.#workers.length >= this.#options.maxWorkers) return undefined;
    const worker: Worker = { process: this.#factory(), busy: false, sessionKeys: [] };
    this.#workers.push(worker);
    return this.#lend(worker, key);
  }

  #lend(worker: Worker, key: string): Lease {
    worker.busy = true;
    remove(worker.sessionKeys, key);
    worker.sessionKeys.push(key);
    const excess = worker.sessionKeys.length - this.#options.maxSessionsPerWorker;
    const evictKeys = excess > 0 ? worker.sessionKeys.splice(0, excess) : [];
    return { worker, evictKeys };
  }

  async #dispose(worker: Worker): Promise<void> {
    remove(this.#workers, worker);
    await worker.process.dispose().catch(() => undefined);
  }

  #waitForRelease(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        remove(this.#waiters, wake);
        reject(signal.reason);
      };
      const wake = () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      this.#waiters.push(wake);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

function remove<T>(items: T[], item: T): void {
  const index = items.indexOf(item);
  if (index >= 0) items.splice(index, 1);
}
