import { setTimeout as sleep } from 'node:timers/promises';
import {
  BatchWriteCommand,
  type BatchWriteCommandInput,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { expiresAtSeconds } from '../../shared/items.ts';
import type { Logger } from '../../shared/logger.ts';
import type { DeviceResult } from '../../shared/schemas/result.ts';
import { StatusOutput } from '../../shared/scripts/index.ts';
import { tableName } from '../../shared/tables.ts';

/** How long metric points are kept, in days. */
export const METRICS_RETENTION_DAYS = 30;

/** DynamoDB's limit of items in one BatchWriteItem. */
const MAX_BATCH_ITEMS = 25;

export interface MetricsWriterOptions {
  client: DynamoDBDocumentClient;
  prefix: string;
  logger: Logger;
  /** How long a point may wait for others before a partial batch is written. Default 1000. */
  flushIntervalMs?: number;
  /** Attempts per batch while DynamoDB leaves items unprocessed. Default 5. */
  maxAttempts?: number;
}

type WriteRequests = NonNullable<BatchWriteCommandInput['RequestItems']>[string];

/**
 * Writes each status result's CPU, memory, disk and uptime to the metrics table, 25 points per
 * BatchWriteItem; unprocessed items are retried with back-off. Metrics are best effort: a
 * batch that still fails is logged and dropped (the archive keeps every status output).
 */
export class MetricsWriter {
  readonly #options: MetricsWriterOptions;
  #pending: WriteRequests = [];
  #timer: NodeJS.Timeout | undefined;
  readonly #writes = new Set<Promise<void>>();

  constructor(options: MetricsWriterOptions) {
    this.#options = options;
  }

  /** Queues the metric point of a successful status result; other results are ignored. */
  add(result: DeviceResult): void {
    const output = StatusOutput.safeParse(result.output);
    if (result.status !== 'Success' || !output.success) return;
    const { deviceId, siteId, operationId, finishedAt } = result;
    const { computerName: _name, osVersion: _os, ...values } = output.data;
    const item = { deviceId, timestamp: finishedAt, siteId, operationId, ...values };
    this.#pending.push({
      PutRequest: { Item: { ...item, expiresAt: expiresAtSeconds(METRICS_RETENTION_DAYS) } },
    });
    if (this.#pending.length >= MAX_BATCH_ITEMS) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), this.#options.flushIntervalMs ?? 1000);
  }

  /** Starts writing every queued point now. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#pending.length > 0) {
      const write = this.#write(this.#pending.splice(0, MAX_BATCH_ITEMS));
      this.#writes.add(write);
      void write.finally(() => this.#writes.delete(write));
    }
  }

  /** Writes what is queued and waits for every write in progress. */
  async close(): Promise<void> {
    this.flush();
    await Promise.all(this.#writes);
  }

  async #write(requests: WriteRequests): Promise<void> {
    const { client, prefix, logger } = this.#options;
    const table = tableName(prefix, 'metrics');
    let left = requests;
    const maxAttempts = this.#options.maxAttempts ?? 5;
    for (let attempt = 1; left.length > 0; attempt += 1) {
      try {
        const out = await client.send(new BatchWriteCommand({ RequestItems: { [table]: left } }));
        left = out.UnprocessedItems?.[table] ?? [];
      } catch (error) {
        if (attempt >= maxAttempts) {
          logger.warn({ err: error, points: left.length }, 'metric points dropped');
          return;
        }
      }
      if (left.length > 0 && attempt >= maxAttempts) {
        logger.warn({ points: left.length }, 'metric points dropped');
        return;
      }
      if (left.length > 0) await sleep(100 * 2 ** attempt);
    }
  }
}
