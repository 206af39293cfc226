import type { Logger } from '../../shared/logger.ts';

export interface CleanupQueueOptions {
  /** Clean-up requests (Signal, Delete) in flight at once across every device. */
  maxRunning: number;
  /**
   * Clean-up tasks queued or running past which `waitForRoom` holds its caller: when the
   * devices answer clean-up more slowly than commands finish, the runs slow down instead of
   * the backlog growing without bound.
   */
  maxPending: number;
  logger?: Logger;
}

interface Task {
  deviceKey: string;
  what: string;
  work: () => Promise<unknown>;
  done: (ok: boolean) => void;
}

/**
 * The WS-Management clean-up that no result waits for (Signal terminate after Done, shell
 * Deletes), run in the background: one request at a time per device, at most `maxRunning` in
 * all. A failure is logged at warn and counted, never thrown; `drain` waits for everything.
 */
export class CleanupQueue {
  readonly #options: CleanupQueueOptions;
  readonly #queue: Task[] = [];
  readonly #busyDevices = new Set<string>();
  readonly #roomWaiters: Array<() => void> = [];
  readonly #drainWaiters: Array<() => void> = [];
  #running = 0;
  #failures = 0;

  constructor(options: CleanupQueueOptions) {
    this.#options = options;
  }

  /** Tasks queued or running. */
  get pending(): number {
    return this.#queue.length + this.#running;
  }

  /** Tasks that failed since the start (each was logged). */
  get failures(): number {
    return this.#failures;
  }

  /**
   * Runs `work` in the background after the device's earlier clean-up. Resolves when it ends:
   * true when it succeeded, false when it failed (logged); never rejects.
   */
  run(deviceKey: string, what: string, work: () => Promise<unknown>): Promise<boolean> {
    return new Promise<boolean>((done) => {
      this.#queue.push({ deviceKey, what, work, done });
      this.#pump();
    });
  }

  /** Resolves at once while the backlog is under `maxPending`, else when it drops under. */
  waitForRoom(): Promise<void> {
    if (this.pending < this.#options.maxPending) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  /** Resolves when nothing is queued or running. */
  drain(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #pump(): void {
    while (this.#running < this.#options.maxRunning) {
      const index = this.#queue.findIndex((t) => !this.#busyDevices.has(t.deviceKey));
      if (index < 0) return;
      const [task] = this.#queue.splice(index, 1);
      if (task) this.#start(task);
    }
  }

  #start(task: Task): void {
    this.#running += 1;
    this.#busyDevices.add(task.deviceKey);
    task.work().then(
      () => this.#finish(task, true),
      (error: unknown) => {
        this.#failures += 1;
        this.#options.logger?.warn(
          { err: error, endpoint: task.deviceKey, cleanup: task.what },
          'wsman clean-up failed',
        );
        this.#finish(task, false);
      },
    );
  }

  #finish(task: Task, ok: boolean): void {
    this.#running -= 1;
    this.#busyDevices.delete(task.deviceKey);
    task.done(ok);
    this.#pump();
    while (this.pending < this.#options.maxPending && this.#roomWaiters.length > 0) {
      this.#roomWaiters.shift()?.();
    }
    if (this.pending === 0) for (const resolve of this.#drainWaiters.splice(0)) resolve();
  }
}
