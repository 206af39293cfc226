import { setTimeout as sleep } from 'node:timers/promises';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { expiresAtSeconds } from '../../shared/items.ts';
import type { Logger } from '../../shared/logger.ts';
import {
  encodePoints,
  type MetricPoint,
  metricBatchTimestamp,
  siteMetricsKey,
} from '../../shared/metric-batches.ts';
import type { CompactResult } from '../../shared/result-batches.ts';
import { StatusOutput } from '../../shared/scripts/index.ts';
import { tableName } from '../../shared/tables.ts';

/** How long metric points are kept, in days. */
export const METRICS_RETENTION_DAYS = 30;

export interface MetricsWriterOptions {
  client: DynamoDBDocumentClient;
  prefix: string;
  logger: Logger;
  /** Attempts per item while DynamoDB fails. Default 5. */
  maxAttempts?: number;
}

/** The batch whose results a metrics item samples, as its result item stores it. */
export interface MetricBatch {
  operationId: string;
  batchId: string;
  siteId: string;
  /** The batch result item's base time: every entry's times count from it. */
  baseTime: string;
  entries: readonly CompactResult[];
}

/**
 * Writes the CPU, memory, disk and uptime of a batch's successful status results as ONE item
 * of the metrics table (shared/metric-batches.ts), not one per device. A later write of the
 * same batch with more points replaces it; one with fewer is refused by its condition. Metrics
 * are best effort: a write that still fails is logged and dropped (the archive keeps every
 * status output).
 */
export class MetricsWriter {
  readonly #options: MetricsWriterOptions;
  readonly #writes = new Set<Promise<void>>();

  constructor(options: MetricsWriterOptions) {
    this.#options = options;
  }

  /** Starts writing the batch's points, if it has any; `close` waits for it. */
  write(batch: MetricBatch): void {
    const points = statusPoints(batch);
    if (points.length === 0) return;
    const write = this.#write(batch, points);
    this.#writes.add(write);
    void write.finally(() => this.#writes.delete(write));
  }

  /** Waits for every write in progress. */
  async close(): Promise<void> {
    await Promise.all(this.#writes);
  }

  async #write(batch: MetricBatch, points: MetricPoint[]): Promise<void> {
    const { client, prefix, logger } = this.#options;
    const maxAttempts = this.#options.maxAttempts ?? 5;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await client.send(new PutCommand(metricsPut(tableName(prefix, 'metrics'), batch, points)));
        return;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return;
        if (attempt >= maxAttempts) {
          logger.warn({ err: error, points: points.length }, 'metric points dropped');
          return;
        }
      }
      await sleep(100 * 2 ** attempt);
    }
  }
}

function metricsPut(table: string, batch: MetricBatch, points: readonly MetricPoint[]) {
  const baseMs = Date.parse(batch.baseTime);
  return {
    TableName: table,
    Item: {
      deviceId: siteMetricsKey(batch.siteId),
      timestamp: metricBatchTimestamp(batch.baseTime, batch.operationId, batch.batchId),
      siteId: batch.siteId,
      operationId: batch.operationId,
      baseTime: batch.baseTime,
      pointCount: points.length,
      points: encodePoints(points, baseMs),
      expiresAt: expiresAtSeconds(METRICS_RETENTION_DAYS),
    },
    // A slower writer of the same batch with fewer points must not replace more.
    ConditionExpression: 'attribute_not_exists(#ts) OR pointCount < :n',
    ExpressionAttributeNames: { '#ts': 'timestamp' },
    ExpressionAttributeValues: { ':n': points.length },
  };
}

/** The points of a batch's successful status results. */
export function statusPoints(batch: MetricBatch): MetricPoint[] {
  const baseMs = Date.parse(batch.baseTime);
  const points: MetricPoint[] = [];
  for (const entry of batch.entries) {
    const output = StatusOutput.safeParse(entry.o);
    if (entry.s !== 'Success' || !output.success) continue;
    const { computerName: _name, osVersion: _os, ...values } = output.data;
    points.push({
      deviceId: entry.d,
      timestamp: new Date(baseMs + entry.f).toISOString(),
      ...values,
    });
  }
  return points;
}
