import type { BatchMessage } from '../shared/schemas/batch.ts';
import type { ConnectorConfig } from './config.ts';

/**
 * A long poll shorter than a third of the visibility timeout. SQS may hand a message to the
 * poll of a connector that died mid-poll; it then counts a receive and hides the message for
 * a whole timeout. A poll that ends before a dead connector's messages come back cannot take
 * them, so a crash costs each of its batches one receive, not two, against maxReceiveCount.
 */
export function longPollSeconds(visibilityTimeoutSeconds: number): number {
  return Math.max(1, Math.min(20, Math.floor(visibilityTimeoutSeconds / 3)));
}

/** Why a batch must not run: only at a site without queued actions, once past its TTL. */
export function expiredReason(
  config: Pick<ConnectorConfig, 'queuedActions' | 'batchTtlSeconds'>,
  batch: Pick<BatchMessage, 'createdAt'>,
  now: Date = new Date(),
): string | undefined {
  if (config.queuedActions) return undefined;
  const createdMs = Date.parse(batch.createdAt);
  // An unreadable createdAt cannot prove the batch stale; it runs.
  if (Number.isNaN(createdMs)) return undefined;
  const ageSeconds = (now.getTime() - createdMs) / 1000;
  if (ageSeconds <= config.batchTtlSeconds) return undefined;
  return `the batch waited ${Math.round(ageSeconds)} s, past its time-to-live of ${config.batchTtlSeconds} s`;
}
