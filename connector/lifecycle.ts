import type { Logger } from '../shared/logger.ts';

/** The connector process's states, in the only order they happen. */
export type LifecycleState = 'starting' | 'running' | 'draining' | 'stopped';

const NEXT: Record<LifecycleState, LifecycleState | undefined> = {
  starting: 'running',
  running: 'draining',
  draining: 'stopped',
  stopped: undefined,
};

/** Tracks the connector's state and logs each transition at info. */
export class Lifecycle {
  #state: LifecycleState = 'starting';

  constructor(private readonly logger: Logger) {
    logger.info({ state: this.#state }, 'connector state');
  }

  get state(): LifecycleState {
    return this.#state;
  }

  /** Moves to `to`; a draining connector may stop without having run (start-up failed). */
  moveTo(to: LifecycleState): void {
    const allowed = NEXT[this.#state] === to || (to === 'draining' && this.#state === 'starting');
    if (!allowed) throw new Error(`connector cannot go from ${this.#state} to ${to}`);
    this.logger.info({ state: to, from: this.#state }, 'connector state');
    this.#state = to;
  }
}
