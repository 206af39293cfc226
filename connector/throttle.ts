/** One device's claim on the site's budget. */
export interface ThrottleRequest {
  operationId: string;
  deviceId: string;
  /** The operation's own limit inside the site's budget. */
  operationLimit: number;
  /** Aborting withdraws a request still waiting; a granted slot must be released instead. */
  signal?: AbortSignal;
}

/** Gives the slot back; calling it again does nothing. */
export type Release = () => void;

/** How the throttle paces starts; every field can change while work runs (`reconfigure`). */
export interface ThrottleSettings {
  /** Commands in flight at once across the site. */
  budget: number;
  /**
   * Each operation starts with 1 device in flight and doubles (1, 2, 4, ...) each time as many
   * of its devices have finished as its window allowed, up to its own limit. Default false.
   */
  rampUp?: boolean;
  /** A granted command waits a random 0 to `jitterMs` ms before it starts. Default 0. */
  jitterMs?: number;
}

/** An operation's ramp-up: the devices it may have in flight, and how many finished at that. */
interface Ramp {
  window: number;
  finished: number;
}

interface Waiter extends ThrottleRequest {
  grant: (release: Release) => void;
  reject: (reason: unknown) => void;
  onAbort: () => void;
}

/**
 * The site's concurrency budget, shared by every batch and operation in flight: at most
 * `budget` commands at once, at most `operationLimit` per operation, at most one per device.
 * Operations take turns, so a large operation cannot starve one started after it. Optional
 * ramp-up per operation and start jitter; `reconfigure` changes the budget without touching
 * the commands in flight (a smaller budget only holds back new starts).
 */
export class SiteThrottle {
  #budget: number;
  #rampUp: boolean;
  #jitterMs: number;
  readonly #random: () => number;
  #inFlight = 0;
  readonly #ramps = new Map<string, Ramp>();
  readonly #perOperation = new Map<string, number>();
  readonly #busyDevices = new Set<string>();
  /** Waiters per operation; Map order is the turn order, the last served moves to the end. */
  readonly #queues = new Map<string, Waiter[]>();

  /** `random` (values in [0, 1)) draws the jitter; injected by tests. */
  constructor(settings: number | ThrottleSettings, random: () => number = Math.random) {
    const { budget, rampUp, jitterMs } =
      typeof settings === 'number' ? { budget: settings } : settings;
    this.#budget = checkBudget(budget);
    this.#rampUp = rampUp ?? false;
    this.#jitterMs = checkJitter(jitterMs ?? 0);
    this.#random = random;
  }

  /** Commands allowed in flight at once. */
  get budget(): number {
    return this.#budget;
  }

  /** Applies new settings to the next starts; commands in flight and waiters are kept. */
  reconfigure(settings: ThrottleSettings): void {
    this.#budget = checkBudget(settings.budget);
    this.#jitterMs = checkJitter(settings.jitterMs ?? 0);
    this.#rampUp = settings.rampUp ?? false;
    if (!this.#rampUp) this.#ramps.clear();
    this.#dispatch();
  }

  /** Commands running now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Requests waiting for a slot. */
  get waiting(): number {
    let n = 0;
    for (const queue of this.#queues.values()) n += queue.length;
    return n;
  }

  /** Resolves with a release function once the request fits every limit. */
  acquire(request: ThrottleRequest): Promise<Release> {
    request.signal?.throwIfAborted();
    return new Promise((grant, reject) => {
      const waiter: Waiter = { ...request, grant, reject, onAbort: () => this.#withdraw(waiter) };
      const queue = this.#queues.get(request.operationId) ?? [];
      queue.push(waiter);
      if (queue.length === 1) this.#queues.set(request.operationId, queue);
      request.signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.#dispatch();
    });
  }

  #dispatch(): void {
    while (this.#inFlight < this.#budget) {
      const next = this.#nextEligible();
      if (!next) return;
      this.#start(next);
    }
  }

  /** The first waiter, in operation turn order, whose operation and device are free. */
  #nextEligible(): Waiter | undefined {
    for (const [operationId, queue] of this.#queues) {
      const limit = this.#operationLimit(operationId, queue[0]?.operationLimit ?? 0);
      if ((this.#perOperation.get(operationId) ?? 0) >= limit) continue;
      const index = queue.findIndex((w) => !this.#busyDevices.has(w.deviceId));
      if (index < 0) continue;
      const [waiter] = queue.splice(index, 1);
      // Rotate: this operation goes to the back of the turn order.
      this.#queues.delete(operationId);
      if (queue.length > 0) this.#queues.set(operationId, queue);
      return waiter;
    }
    return undefined;
  }

  /** The operation's own limit, narrowed by its ramp-up window. */
  #operationLimit(operationId: string, limit: number): number {
    if (!this.#rampUp) return limit;
    let ramp = this.#ramps.get(operationId);
    if (!ramp) {
      ramp = { window: 1, finished: 0 };
      this.#ramps.set(operationId, ramp);
    }
    return Math.min(limit, ramp.window);
  }

  #start(waiter: Waiter): void {
    const { operationId, deviceId } = waiter;
    waiter.signal?.removeEventListener('abort', waiter.onAbort);
    this.#inFlight += 1;
    this.#perOperation.set(operationId, (this.#perOperation.get(operationId) ?? 0) + 1);
    this.#busyDevices.add(deviceId);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#finish(operationId, deviceId);
    };
    const delayMs = Math.floor(this.#random() * this.#jitterMs);
    if (delayMs <= 0) waiter.grant(release);
    else this.#grantAfter(waiter, release, delayMs);
  }

  /** Grants after the jitter delay; the slot is held meanwhile, and freed if the wait aborts. */
  #grantAfter(waiter: Waiter, release: Release, delayMs: number): void {
    const onAbort = () => {
      clearTimeout(timer);
      release();
      waiter.reject(waiter.signal?.reason);
    };
    const timer = setTimeout(() => {
      waiter.signal?.removeEventListener('abort', onAbort);
      waiter.grant(release);
    }, delayMs);
    waiter.signal?.addEventListener('abort', onAbort, { once: true });
  }

  #finish(operationId: string, deviceId: string): void {
    this.#inFlight -= 1;
    const left = (this.#perOperation.get(operationId) ?? 1) - 1;
    if (left === 0) this.#perOperation.delete(operationId);
    else this.#perOperation.set(operationId, left);
    this.#busyDevices.delete(deviceId);
    this.#advanceRamp(operationId, left);
    this.#dispatch();
  }

  /** Doubles the window once a full window of devices has finished; forgets an idle operation. */
  #advanceRamp(operationId: string, inFlight: number): void {
    const ramp = this.#ramps.get(operationId);
    if (!ramp) return;
    if (inFlight === 0 && !this.#queues.has(operationId)) {
      this.#ramps.delete(operationId);
      return;
    }
    ramp.finished += 1;
    if (ramp.finished < ramp.window) return;
    ramp.window *= 2;
    ramp.finished = 0;
  }

  #withdraw(waiter: Waiter): void {
    const queue = this.#queues.get(waiter.operationId);
    const index = queue?.indexOf(waiter) ?? -1;
    if (!queue || index < 0) return;
    queue.splice(index, 1);
    if (queue.length === 0) this.#queues.delete(waiter.operationId);
    waiter.reject(waiter.signal?.reason);
  }
}

function checkBudget(budget: number): number {
  if (!Number.isInteger(budget) || budget < 1) {
    throw new RangeError(`throttle budget must be a positive integer, got ${budget}`);
  }
  return budget;
}

function checkJitter(jitterMs: number): number {
  if (!Number.isFinite(jitterMs) || jitterMs < 0) {
    throw new RangeError(`throttle jitterMs must be zero or more, got ${jitterMs}`);
  }
  return jitterMs;
}
