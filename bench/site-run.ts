import { setMaxListeners } from 'node:events';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { operationScript } from '../connector/operation-script.ts';
import { runOnDevice } from '../connector/runner.ts';
import { SiteThrottle } from '../connector/throttle.ts';
import { createWsmanTransport } from '../connector/wsman/index.ts';
import type { DeviceTarget } from '../shared/schemas/device.ts';

export interface SiteRunOptions {
  throttleLimit: number;
  user: string;
  password: string;
}

export interface SiteRunFigures {
  devices: number;
  /** From the first device started to the last result. */
  seconds: number;
  /** Deleting the pooled shells when the transport closes, outside `seconds`. */
  closeSeconds: number;
  statuses: Record<string, number>;
  /** WS-Management exchanges made during the run, by action (Create, Command, Receive...). */
  exchanges: Record<string, number>;
  /** Exchanges made when the transport closed (the pooled shells' Deletes). */
  closeExchanges: Record<string, number>;
}

/**
 * A status sweep of one site through the connector's own code: the WS-Management transport,
 * the site throttle and the per-device runner, as a batch worker drives them (no SQS, archive
 * or DynamoDB). Exchanges are counted from the transport's trace log lines.
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
  const job = {
    operationId: 'bench-op',
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
      try {
        const result = await runOnDevice(transport, device, job, signal);
        statuses[result.status] = (statuses[result.status] ?? 0) + 1;
      } finally {
        release();
      }
    }),
  );
  const seconds = (performance.now() - startedMs) / 1000;
  const exchanges = counter.take();

  const closeStartedMs = performance.now();
  await transport.close();
  const closeSeconds = (performance.now() - closeStartedMs) / 1000;
  const closeExchanges = counter.take();
  return { devices: devices.length, seconds, closeSeconds, statuses, exchanges, closeExchanges };
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
