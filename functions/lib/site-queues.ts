import { GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { CloudEnv } from '../../shared/config.ts';
import { siteQueueName } from '../../shared/queues.ts';
import { SiteNotDeployedError } from '../errors.ts';

/** How long a site's queue URL is trusted before it is looked up again. */
export const QUEUE_FOUND_TTL_MS = 60_000;
/** How long a missing queue stays missing: short, so a site deployed meanwhile is soon seen. */
export const QUEUE_MISSING_TTL_MS = 10_000;

interface CachedLookUp {
  /** The URL, or undefined when SQS said the queue does not exist. */
  url: Promise<string | undefined>;
  expiresAtMs: number;
}

const lookUps = new Map<string, CachedLookUp>();

function cacheKey(env: CloudEnv, siteId: string): string {
  return `${env.WINFLEET_SQS_ENDPOINT ?? env.AWS_REGION}|${siteQueueName(env.WINFLEET_PREFIX, siteId)}`;
}

/**
 * The URL of a site's queue, or undefined when it does not exist. Both answers are cached
 * (found for a minute, missing for ten seconds); a failed look-up (throttling, network) is
 * thrown and not cached.
 */
export function findSiteQueueUrl(
  sqs: SQSClient,
  env: CloudEnv,
  siteId: string,
  nowMs = Date.now(),
): Promise<string | undefined> {
  const key = cacheKey(env, siteId);
  const cached = lookUps.get(key);
  if (cached && cached.expiresAtMs > nowMs) return cached.url;
  const entry: CachedLookUp = { url: lookUp(sqs, env, siteId), expiresAtMs: nowMs + 5_000 };
  lookUps.set(key, entry);
  entry.url.then(
    (url) => {
      entry.expiresAtMs = nowMs + (url ? QUEUE_FOUND_TTL_MS : QUEUE_MISSING_TTL_MS);
    },
    () => {
      if (lookUps.get(key) === entry) lookUps.delete(key);
    },
  );
  return entry.url;
}

async function lookUp(sqs: SQSClient, env: CloudEnv, siteId: string) {
  const queueName = siteQueueName(env.WINFLEET_PREFIX, siteId);
  try {
    const out = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
    if (!out.QueueUrl) throw new Error(`GetQueueUrl for ${queueName} returned no URL`);
    return out.QueueUrl;
  } catch (error) {
    if (isQueueMissing(error)) return undefined;
    throw error;
  }
}

/** The URL of a site's queue; SiteNotDeployedError when it does not exist. */
export async function siteQueueUrl(sqs: SQSClient, env: CloudEnv, siteId: string) {
  const url = await findSiteQueueUrl(sqs, env, siteId);
  if (url) return url;
  throw new SiteNotDeployedError([siteId], [siteQueueName(env.WINFLEET_PREFIX, siteId)]);
}

/** Drops what is known of a site's queue, after SQS said a cached URL names no queue. */
export function forgetSiteQueue(env: CloudEnv, siteId: string): void {
  lookUps.delete(cacheKey(env, siteId));
}

/** True for SQS's answer that a queue does not exist (by name or URL). */
export function isQueueMissing(error: unknown): boolean {
  if (error instanceof SiteNotDeployedError) return true;
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'QueueDoesNotExist' || name === 'AWS.SimpleQueueService.NonExistentQueue';
}

/**
 * The sites among `siteIds` whose queue does not exist, in the given order. Sites are looked
 * up in parallel; a look-up that fails for another reason counts the site as deployed (the
 * dispatch retries, and records the error if it still fails).
 */
export async function findUndeployedSites(
  sqs: SQSClient,
  env: CloudEnv,
  siteIds: readonly string[],
): Promise<string[]> {
  const urls = await Promise.all(
    siteIds.map((siteId) => findSiteQueueUrl(sqs, env, siteId).catch(() => 'unknown')),
  );
  return siteIds.filter((_, i) => urls[i] === undefined);
}
