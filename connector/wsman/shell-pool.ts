import type { Logger } from '../../shared/logger.ts';
import { FAULT_CODE } from '../../shared/wsman.ts';
import type { CleanupQueue } from './cleanup.ts';
import type { WinrsClient } from './client.ts';
import { WsmanFaultError } from './errors.ts';

export interface ShellPoolOptions {
  /** A shell idle for longer than this is deleted rather than reused. */
  shellTtlMs: number;
  /**
   * Commands after which a shell is deleted: Windows never frees a terminated command's
   * operation slot, so a long-lived shell would hit MaxConcurrentOperationsPerUser.
   */
  maxCommandsPerShell: number;
  maxShells: number;
  /** Budget for a Delete sent during clean-up. */
  cleanupTimeoutMs: number;
  /** Where Deletes and post-command Signals run, off the commands' critical path. */
  cleanup: CleanupQueue;
  /** The device, as the clean-up queue keys it (one clean-up request at a time per device). */
  deviceKey: string;
  now?: () => number;
}

/** A shell lent to one command at a time. */
export interface PooledShell {
  readonly id: string;
  lastUsedAtMs: number;
  commands: number;
  /** Lent to a command, or waiting for its command's clean-up (`releaseAfter`). */
  busy: boolean;
  /** Busy only until the background clean-up of its last command has run. */
  finishing?: boolean;
}

/** The shells of one device: reused within a TTL, recycled after a number of commands. */
export class ShellPool {
  readonly #client: WinrsClient;
  readonly #options: ShellPoolOptions;
  readonly #logger: Logger | undefined;
  readonly #shells: PooledShell[] = [];
  readonly #waiters: Array<() => void> = [];
  readonly #deletions = new Set<Promise<void>>();
  #creating = 0;

  constructor(client: WinrsClient, options: ShellPoolOptions, logger?: Logger) {
    this.#client = client;
    this.#options = options;
    this.#logger = logger;
  }

  get size(): number {
    return this.#shells.length;
  }

  /**
   * A free shell, a new one (up to `maxShells`), or the next one released. A shell whose last
   * command is being cleaned up is waited for rather than a new one created: its Signal takes
   * one exchange, as a Create would, and the device keeps one shell.
   */
  async acquire(signal: AbortSignal): Promise<PooledShell> {
    for (;;) {
      signal.throwIfAborted();
      this.dropStale();
      const idle = this.#shells.find((shell) => !shell.busy);
      if (idle) {
        idle.busy = true;
        return idle;
      }
      const finishing = this.#shells.some((shell) => shell.finishing);
      if (!finishing && this.#shells.length + this.#creating < this.#options.maxShells)
        return this.#create(signal);
      await this.#waitForRelease(signal);
    }
  }

  /**
   * Runs `work` (the command's Signal terminate) in the background clean-up queue and then
   * returns the shell: reused when `reusable` and `work` succeeded, deleted otherwise.
   */
  releaseAfter(shell: PooledShell, what: string, work: () => Promise<void>, reusable: boolean) {
    shell.finishing = true;
    const cleanup = this.#options.cleanup
      .run(this.#options.deviceKey, what, work)
      .then((ok) => {
        shell.finishing = false;
        return this.release(shell, reusable && ok);
      })
      .finally(() => this.#deletions.delete(cleanup));
    this.#deletions.add(cleanup);
  }

  /** Returns a shell after a command; a shell that may be broken is deleted instead. */
  release(shell: PooledShell, reusable: boolean): Promise<void> {
    shell.busy = false;
    shell.commands += 1;
    shell.lastUsedAtMs = this.#now();
    const recycle = !reusable || shell.commands >= this.#options.maxCommandsPerShell;
    const deletion = recycle ? this.discard(shell) : Promise.resolve();
    this.#wake();
    return deletion;
  }

  /** Forgets a shell and deletes it on the device in the background (awaited by `close`). */
  discard(shell: PooledShell): Promise<void> {
    const index = this.#shells.indexOf(shell);
    if (index < 0) return Promise.resolve();
    this.#shells.splice(index, 1);
    const deletion = this.#options.cleanup
      .run(this.#options.deviceKey, 'shell delete', () =>
        this.#client.deleteShell(shell.id, AbortSignal.timeout(this.#options.cleanupTimeoutMs)),
      )
      .then(() => undefined)
      .finally(() => this.#deletions.delete(deletion));
    this.#deletions.add(deletion);
    this.#wake();
    return deletion;
  }

  /** Waits for the clean-up in progress, then deletes every shell and waits for the deletions. */
  async close(): Promise<void> {
    while (this.#deletions.size > 0) await Promise.all([...this.#deletions]);
    for (const shell of [...this.#shells]) this.discard(shell);
    await Promise.all([...this.#deletions]);
  }

  async #create(signal: AbortSignal): Promise<PooledShell> {
    this.#creating += 1;
    try {
      const id = await this.#createUnlessAborted(signal);
      const shell: PooledShell = { id, lastUsedAtMs: this.#now(), commands: 0, busy: true };
      this.#shells.push(shell);
      return shell;
    } finally {
      this.#creating -= 1;
    }
  }

  /**
   * Creates a shell without handing the caller's signal to the request: a Create aborted in
   * flight may still open a shell on the host, which would then leak (and count against
   * MaxShellsPerUser) until the host reaps it. When the caller aborts first, the Create runs on
   * and the shell it returns is deleted (awaited by `close`); the caller gets the abort reason.
   */
  #createUnlessAborted(signal: AbortSignal): Promise<string> {
    signal.throwIfAborted();
    const creation = this.#createWithQuotaRetry();
    return new Promise<string>((resolve, reject) => {
      const onAbort = () => {
        reject(signal.reason);
        this.#track(
          creation.then(
            (id) => this.#deleteOrphan(id),
            () => undefined,
          ),
        );
      };
      signal.addEventListener('abort', onAbort, { once: true });
      creation.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  async #deleteOrphan(shellId: string): Promise<void> {
    this.#logger?.debug({ shellId }, 'deleting a shell created after its run was aborted');
    await this.#options.cleanup.run(this.#options.deviceKey, 'orphan shell delete', () =>
      this.#client.deleteShell(shellId, AbortSignal.timeout(this.#options.cleanupTimeoutMs)),
    );
  }

  #track(deletion: Promise<void>): void {
    const tracked = deletion.finally(() => this.#deletions.delete(tracked));
    this.#deletions.add(tracked);
  }

  /** On MaxShellsPerUser (2150859173) deletes this pool's idle shells and tries once more. */
  async #createWithQuotaRetry(): Promise<string> {
    try {
      return await this.#client.createShell();
    } catch (error) {
      if (!(error instanceof WsmanFaultError) || error.code !== FAULT_CODE.shellQuota) throw error;
      this.#logger?.warn({ faultCode: error.code }, 'shell quota reached, recycling shells');
      for (const shell of this.#shells.filter((s) => !s.busy)) this.discard(shell);
      await Promise.all([...this.#deletions]);
      return this.#client.createShell();
    }
  }

  /** Deletes (in the background) the idle shells unused for longer than `shellTtlMs`. */
  dropStale(): void {
    const now = this.#now();
    for (const shell of [...this.#shells]) {
      const expired = now - shell.lastUsedAtMs > this.#options.shellTtlMs;
      if (!shell.busy && expired) this.discard(shell);
    }
  }

  #waitForRelease(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const index = this.#waiters.indexOf(wake);
        if (index >= 0) this.#waiters.splice(index, 1);
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

  #wake(): void {
    this.#waiters.shift()?.();
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }
}
