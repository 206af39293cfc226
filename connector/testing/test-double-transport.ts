import { setTimeout as sleep } from 'node:timers/promises';
import type { DeviceTarget } from '../../shared/schemas/device.ts';
import type { CommandOutcome, RunOptions, Transport } from '../transport.ts';

/** How the test double answers one run: an outcome, or an error to throw. */
export type Behaviour = (device: DeviceTarget, script: string) => CommandOutcome | Error;

/**
 * TEST DOUBLE of a Transport, for throttle and worker tests before the simulated fleet and
 * the WS-Management client exist. It counts commands in flight, overall and per device.
 */
export class TestDoubleTransport implements Transport {
  inFlight = 0;
  maxInFlight = 0;
  maxPerDevice = 0;
  readonly runs: string[] = [];
  readonly #perDevice = new Map<string, number>();

  constructor(
    private readonly behaviour: Behaviour = () => ok('{}'),
    /** How long each command takes; real timers, small, only to overlap commands. */
    private readonly delayMs = 5,
  ) {}

  async run(device: DeviceTarget, script: string, options: RunOptions): Promise<CommandOutcome> {
    this.#enter(device.deviceId);
    try {
      await sleep(this.delayMs, undefined, { signal: options.signal });
      this.runs.push(device.deviceId);
      const answer = this.behaviour(device, script);
      if (answer instanceof Error) throw answer;
      return answer;
    } finally {
      this.#leave(device.deviceId);
    }
  }

  async close(): Promise<void> {}

  #enter(deviceId: string): void {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const n = (this.#perDevice.get(deviceId) ?? 0) + 1;
    this.#perDevice.set(deviceId, n);
    this.maxPerDevice = Math.max(this.maxPerDevice, n);
  }

  #leave(deviceId: string): void {
    this.inFlight -= 1;
    this.#perDevice.set(deviceId, (this.#perDevice.get(deviceId) ?? 1) - 1);
  }
}

/** A command that completed with exit code 0 and printed `stdout`. */
export function ok(stdout: string): CommandOutcome {
  return { state: 'Completed', exitCode: 0, stdout, stderr: '' };
}

/** An error shaped like a transport's unreachable error. */
export function unreachable(message: string): Error {
  return Object.assign(new Error(message), { kind: 'unreachable' });
}

/** A status script answer that passes StatusOutput. */
export function statusJson(computerName: string): string {
  return JSON.stringify({
    computerName,
    uptimeSeconds: 1000,
    cpuPercent: 12.5,
    memoryTotalBytes: 8_000_000_000,
    memoryFreeBytes: 4_000_000_000,
    diskFreeBytes: 50_000_000_000,
    diskTotalBytes: 100_000_000_000,
    osVersion: '10.0.20348',
  });
}
