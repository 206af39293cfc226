import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { operationScript } from '../connector/operation-script.ts';
import { runOnDevice } from '../connector/runner.ts';
import { SiteThrottle } from '../connector/throttle.ts';
import type { Transport } from '../connector/transport.ts';
import { createWsmanTransport } from '../connector/wsman/index.ts';
import type { DeviceTarget } from '../shared/schemas/device.ts';

export interface SiteRunOptions {
  throttleLimit: number;
  user: string;
  password: string;
}

export interface SweepFigures {
  /** From the first device started to the last result. */
  seconds: number;
  statuses: Record<string, number>;
  /**
   * WS-Management exchanges made during the sweep, by action: those a result waits for
   * (Create, Command, Send, Receive) and the background clean-up that happened meanwhile.
   */
  exchanges: Record<string, number>;
}

export interface SiteRunFigures {
  devices: number;
  /** The first sweep: every shell is created. */
  cold: SweepFigures;
  /** The same devices swept again right after, within the shell TTL: shells are reused. */
  warm: SweepFigures;
  /** Closing the transport: the clean-up still queued and the pooled shells' Deletes. */
  closeSeconds: number;
  closeExchanges: Record<string, number>;
}

/**
 * Status sweeps of one site through the connector's own code: the WS-Management transport,
 * the site throttle and the per-device runner, as a batch worker drives them (no SQS, archive
 * or DynamoDB). Two sweeps on one transport, as a connector runs consecutive operations, then
 * the transport is closed. Exchanges are counted from the transport's trace log lines.
 */
export async function runSiteThroughConnector(
  devices: DeviceTarget[],
  options: SiteRunOptions,
): Promise<SiteRunFigures> {
  const counter = new ExchangeCounter();
  const transport = createWsmanTransport({
    auth: { type: 'basic', user: options.user, password: options.password },
    logger: pino({ level: process.env.BENCH_NO_COUNT ? 'info' : 'trace' }, counter.stream),
  });
  const throttle = new SiteThrottle(options.throttleLimit);
  const cold = await sweep(transport, throttle, devices, options, counter);
  const warm = await sweep(transport, throttle, devices, options, counter);

  const closeStartedMs = performance.now();
  await transport.close();
  const closeSeconds = (performance.now() - closeStartedMs) / 1000;
  const closeExchanges = counter.take();
  return { devices: devices.length, cold, warm, closeSeconds, closeExchanges };
}

async function sweep(
  transport: Transport,
  throttle: SiteThrottle,
  devices: DeviceTarget[],
  options: SiteRunOptions,
  counter: ExchangeCounter,
): Promise<SweepFigures> {
  const job = {
    operationId: `bench-op-${randomUUID()}`,
    batchId: 'bench-batch',
    siteId: 'bench-site',
    script: operationScript('status', undefined),
    timeoutMs: 300_000,
  };
  const signal = new AbortController().signal;
  // Every device in flight listens on the one signal, as in a batch.
  setMaxListeners(0, signal);
  const statuses: Record<string, number> = {};

  const startedMs = performance.now();
  await Promise.all(
    devices.map(async (device) => {
      const release = await throttle.acquire({
        operationId: job.operationId,
        deviceId: device.deviceId,
        operationLimit: options.throttleLimit,
      });
      // Released when the result is known, as the batch worker does.
      let result: Awaited<ReturnType<typeof runOnDevice>>;
      try {
        result = await runOnDevice(transport, device, job, signal);
      } finally {
        release();
      }
      statuses[result.status] = (statuses[result.status] ?? 0) + 1;
    }),
  );
  const seconds = (performance.now() - startedMs) / 1000;
  return { seconds, statuses, exchanges: counter.take() };
}

/** Counts the transport's `wsman exchange` trace lines by the action's last path segment. */
class ExchangeCounter {
  #counts: Record<string, number> = {};
  readonly stream = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      this.#count(chunk.toString('utf8'));
      done();
    },
  });

  #count(text: string): void {
    for (const match of text.matchAll(/"action":"[^"]*\/([A-Za-z]+)"[^\n]*"wsman exchange"/g)) {
      const action = match[1] ?? 'unknown';
      this.#counts[action] = (this.#counts[action] ?? 0) + 1;
    }
  }

  /** The counts so far, starting again from zero. */
  take(): Record<string, number> {
    const counts = this.#counts;
    this.#counts = {};
    return counts;
  }
}
