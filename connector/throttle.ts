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

interface Waiter extends ThrottleRequest {
  grant: (release: Release) => void;
  reject: (reason: unknown) => void;
  onAbort: () => void;
}

/**
 * The site's concurrency budget, shared by every batch and operation in flight: at most
 * `budget` commands at once, at most `operationLimit` per operation, at most one per device.
 * Operations take turns, so a large operation cannot starve one started after it.
 */
export class SiteThrottle {
  readonly budget: number;
  #inFlight = 0;
  readonly #perOperation = new Map<string, number>();
  readonly #busyDevices = new Set<string>();
  /** Waiters per operation; Map order is the turn order, the last served moves to the end. */
  readonly #queues = new Map<string, Waiter[]>();

  constructor(budget: number) {
    if (!Number.isInteger(budget) || budget < 1) {
      throw new RangeError(`throttle budget must be a positive integer, got ${budget}`);
    }
    this.budget = budget;
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
    while (this.#inFlight < this.budget) {
      const next = this.#nextEligible();
      if (!next) return;
      this.#start(next);
    }
  }

  /** The first waiter, in operation turn order, whose operation and device are free. */
  #nextEligible(): Waiter | undefined {
    for (const [operationId, queue] of this.#queues) {
      if ((this.#perOperation.get(operationId) ?? 0) >= (queue[0]?.operationLimit ?? 0)) continue;
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

  #start(waiter: Waiter): void {
    const { operationId, deviceId } = waiter;
    waiter.signal?.removeEventListener('abort', waiter.onAbort);
    this.#inFlight += 1;
    this.#perOperation.set(operationId, (this.#perOperation.get(operationId) ?? 0) + 1);
    this.#busyDevices.add(deviceId);
    let released = false;
    waiter.grant(() => {
      if (released) return;
      released = true;
      this.#finish(operationId, deviceId);
    });
  }

  #finish(operationId: string, deviceId: string): void {
    this.#inFlight -= 1;
    const left = (this.#perOperation.get(operationId) ?? 1) - 1;
    if (left === 0) this.#perOperation.delete(operationId);
    else this.#perOperation.set(operationId, left);
    this.#busyDevices.delete(deviceId);
    this.#dispatch();
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
