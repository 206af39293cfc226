import { ChangeMessageVisibilityCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../shared/logger.ts';
import { QUEUE_SETTINGS } from '../shared/queues.ts';
import type { BatchMessage } from '../shared/schemas/batch.ts';
import type { DeviceTarget } from '../shared/schemas/device.ts';
import type { DeviceResult } from '../shared/schemas/result.ts';
import type { Archive, ArchiveWriter, ResultKey } from './archive/index.ts';
import { parseBatchMessage } from './batch-message.ts';
import { BatchResults } from './batch-results.ts';
import { cachedResult } from './cache.ts';
import type { MetricsWriter, ResultDelivery } from './cloud/index.ts';
import { startHeartbeat } from './heartbeat.ts';
import { MessageDeleter } from './message-deleter.ts';
import type { OperationControl } from './operation-control.ts';
import { operationScript } from './operation-script.ts';
import { type DeviceJob, runOnDevice } from './runner.ts';
import type { SiteThrottle } from './throttle.ts';
import type { Transport } from './transport.ts';

export interface BatchWorkerOptions {
  siteId: string;
  sqs: SQSClient;
  queueUrl: string;
  archive: Archive;
  writer: ArchiveWriter;
  delivery: ResultDelivery;
  transport: Transport;
  throttle: SiteThrottle;
  logger: Logger;
  /** Per-device timeout when the batch's rate control sets none. */
  defaultTimeoutSeconds: number;
  /** Writes status results' metric points to DynamoDB; none: metrics are not written. */
  metrics?: MetricsWriter;
  /** Cancels the rest of an operation (API cancel, maxErrors); none: never cancelled. */
  control?: OperationControl;
  /** Visibility each heartbeat restores. Default: the queue's visibility timeout. */
  visibilityTimeoutSeconds?: number;
  /**
   * While a batch runs its results are delivered this often, in one write; the rest when it
   * ends. Default 10,000.
   */
  progressIntervalMs?: number;
  // Offline and lifecycle hooks (issue 6), all optional; see connector/outbox.ts.
  /** Why a batch must not run any more (past its time-to-live); its devices end Expired. */
  expiredReason?: (batch: BatchMessage) => string | undefined;
  /** Holds a batch whose results wait in the outbox until the loop has delivered them. */
  outbox?: {
    waitForDelivery(keys: readonly ResultKey[], signal: AbortSignal): Promise<boolean>;
  };
}

export interface BatchSignals {
  /** Aborted when the connector drains: devices not started yet stay unstarted. */
  stop: AbortSignal;
  /** Aborted when the connector must quit now: devices in flight are abandoned. */
  abort: AbortSignal;
}

/** A device starts only if the operation's status was read at most this long ago. */
const STATUS_MAX_AGE_MS = 1000;

/** `deleted`: every device's result is durable; `kept`: the message comes back later. */
export type BatchOutcome = 'deleted' | 'kept' | 'malformed';

/** A job, or why the batch's parameters cannot make one (each device is then Failed). */
type JobOrProblem = DeviceJob | { problem: string };

/**
 * Runs one SQS message's batch: skips devices that already have a final result, runs the rest
 * under the site's throttle, archives each result, delivers the batch's results together
 * (periodically while it runs, and at its end), and deletes the message only when every
 * device's result is in the archive and accepted by DynamoDB.
 */
export class BatchWorker {
  readonly #options: BatchWorkerOptions;
  readonly #deleter: MessageDeleter;

  constructor(options: BatchWorkerOptions) {
    this.#options = options;
    this.#deleter = new MessageDeleter(options);
  }

  async process(message: Message, signals: BatchSignals): Promise<BatchOutcome> {
    const { logger, siteId } = this.#options;
    let batch: BatchMessage;
    try {
      batch = parseBatchMessage(message, siteId);
    } catch (error) {
      // Left on the queue: after maxReceiveCount receives the redrive policy dead-letters it.
      logger.warn({ err: error, messageId: message.MessageId }, 'malformed batch message');
      return 'malformed';
    }
    const { operationId, batchId } = batch;
    const log = logger.child({ operationId, batchId, messageId: message.MessageId });
    const heartbeat = startHeartbeat({
      ...this.#options,
      // Read at each beat: the poller gives the message the handle of its newest receive.
      receiptHandle: () => message.ReceiptHandle ?? '',
      visibilityTimeoutSeconds: this.#visibilityTimeoutSeconds(),
      signal: signals.abort,
      logger: log,
    });
    const untrack = this.#options.control?.track(batch);
    const results = new BatchResults({
      ...this.#options,
      batch,
      logger: log,
      signal: signals.abort,
      progressIntervalMs: this.#options.progressIntervalMs ?? 10_000,
    });
    try {
      await this.#runBatch(batch, results, log, signals);
      await results.finish();
      return await this.#settle(batch, message, log, signals);
    } finally {
      results.stop();
      untrack?.();
      heartbeat.stop();
    }
  }

  async #runBatch(
    batch: BatchMessage,
    results: BatchResults,
    log: Logger,
    signals: BatchSignals,
  ): Promise<void> {
    const { archive } = this.#options;
    const deviceIds = batch.devices.map((d) => d.deviceId);
    const archived = archive.finalResultsFor(batch.operationId, deviceIds);
    const done = new Set(archived.map((a) => a.result.deviceId));
    const undelivered = archived.filter((a) => !a.deliveredAt).map((a) => a.result);
    const toRun = batch.devices.filter((d) => !done.has(d.deviceId));
    log.info({ devices: toRun.length, skipped: done.size }, 'batch started');

    archive.recordOperation(batch.operationId, batch.type, batch.createdAt);
    // One read per batch: a batch that arrives after a cancel starts none of its devices.
    await this.#options.control?.refresh(batch.operationId, 0);
    if (undelivered.length > 0) results.add(...undelivered);
    const job = this.#job(batch);
    await Promise.allSettled(
      toRun.map((device) => this.#runDevice(device, { batch, job, results }, log, signals)),
    );
  }

  #job(batch: BatchMessage): JobOrProblem {
    const timeoutSeconds = batch.rateControl.timeoutSeconds ?? this.#options.defaultTimeoutSeconds;
    try {
      const script = operationScript(batch.type, batch.parameters);
      const { operationId, batchId, siteId } = batch;
      return { operationId, batchId, siteId, script, timeoutMs: timeoutSeconds * 1000 };
    } catch (error) {
      return { problem: error instanceof Error ? error.message : String(error) };
    }
  }

  async #runDevice(
    device: DeviceTarget,
    run: { batch: BatchMessage; job: JobOrProblem; results: BatchResults },
    batchLog: Logger,
    signals: BatchSignals,
  ): Promise<void> {
    const log = batchLog.child({ deviceId: device.deviceId });
    try {
      const result = await this.#resultFor(device, run.batch, run.job, signals);
      logResult(log, result);
      await this.#options.writer.write(result);
      run.results.add(result);
    } catch (error) {
      if (signals.stop.aborted || signals.abort.aborted) return;
      log.error({ err: error }, 'device left without a final result');
      throw error;
    }
  }

  async #resultFor(
    device: DeviceTarget,
    batch: BatchMessage,
    job: JobOrProblem,
    signals: BatchSignals,
  ): Promise<DeviceResult> {
    if ('problem' in job) return unrunResult(batch, device, 'Failed', job.problem);
    const expired = this.#options.expiredReason?.(batch);
    if (expired) return unrunResult(batch, device, 'Expired', expired);
    const { throttle, transport, archive } = this.#options;
    const cached = cachedResult(archive, batch, device);
    if (cached) return cached;
    const release = await throttle.acquire({
      operationId: batch.operationId,
      deviceId: device.deviceId,
      operationLimit: Math.min(batch.rateControl.throttleLimit ?? throttle.budget, throttle.budget),
      signal: signals.stop,
    });
    try {
      // Checked once the slot is granted: a cancel may have come while the device waited.
      await this.#options.control?.refresh(batch.operationId, STATUS_MAX_AGE_MS);
      const cancelled = this.#options.control?.cancelledReason(batch.operationId);
      if (cancelled) return unrunResult(batch, device, 'Cancelled', cancelled);
      const result = await runOnDevice(transport, device, job, signals.abort);
      this.#options.control?.record(batch.operationId, result.status);
      return result;
    } finally {
      release();
    }
  }

  /** Deletes the message when every device's result is durable; else leaves it to return. */
  async #settle(
    batch: BatchMessage,
    message: Message,
    log: Logger,
    signals: BatchSignals,
  ): Promise<BatchOutcome> {
    const deviceIds = [...new Set(batch.devices.map((d) => d.deviceId))];
    // The message is kept in hand (heartbeats go on) while the outbox loop delivers the rest.
    const keys = deviceIds.map((deviceId) => ({ operationId: batch.operationId, deviceId }));
    await this.#options.outbox?.waitForDelivery(keys, signals.stop);
    const final = this.#options.archive.finalResultsFor(batch.operationId, deviceIds);
    const delivered = final.filter((a) => a.deliveredAt).length;
    if (delivered === deviceIds.length && (await this.#deleteMessage(message, log))) {
      log.info({ devices: deviceIds.length }, 'batch done');
      return 'deleted';
    }
    // While draining, hand the rest to another connector now rather than after the timeout.
    if (signals.stop.aborted) await this.#releaseMessage(message, log);
    log.info({ devices: deviceIds.length, archived: final.length, delivered }, 'batch kept');
    return 'kept';
  }

  async #deleteMessage(message: Message, log: Logger): Promise<boolean> {
    const deleted = await this.#deleter.delete(message.ReceiptHandle ?? '');
    if (!deleted) log.warn('batch message not deleted');
    return deleted;
  }

  async #releaseMessage(message: Message, log: Logger): Promise<void> {
    const { sqs, queueUrl } = this.#options;
    try {
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
        { abortSignal: AbortSignal.timeout(5000) },
      );
    } catch (error) {
      log.warn({ err: error }, 'batch message not released');
    }
  }

  #visibilityTimeoutSeconds(): number {
    return this.#options.visibilityTimeoutSeconds ?? QUEUE_SETTINGS.visibilityTimeoutSeconds;
  }
}

/**
 * The result of a device that was never run: parameters unfit for the type, or cancelled. Its
 * shape (no exit code, zero duration) is how delivery knows not to touch the device's status.
 */
export function unrunResult(
  batch: BatchMessage,
  device: DeviceTarget,
  status: 'Failed' | 'Cancelled' | 'Expired',
  error: string,
): DeviceResult {
  const now = new Date().toISOString();
  const { operationId, batchId, siteId } = batch;
  return {
    ...{ operationId, batchId, siteId, deviceId: device.deviceId },
    status,
    error,
    startedAt: now,
    finishedAt: now,
    durationMs: 0,
  };
}

function logResult(log: Logger, result: DeviceResult): void {
  const { status, durationMs, exitCode } = result;
  if (status === 'Success' || status === 'Cached') log.debug({ status, durationMs }, 'device done');
  else log.warn({ status, durationMs, exitCode, error: result.error }, 'device failed');
}
