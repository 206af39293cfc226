import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { Logger } from '../../shared/logger.ts';
import { tableName } from '../../shared/tables.ts';

export interface SiteHealthReporterOptions {
  client: DynamoDBDocumentClient;
  prefix: string;
  siteId: string;
  logger: Logger;
  /** Time between two reports after the first, which is sent at once. */
  intervalMs: number;
  /** What `connectorVersion` says. Default the version in the project's package.json. */
  version?: string;
  /** True while the cloud is known to be away: the report is skipped, not sent to time out. */
  offline?: () => boolean;
  now?: () => Date;
}

/** How a report went: written, skipped while offline, or failed (logged at warn). */
export type SiteHealthOutcome = 'written' | 'skipped' | 'failed';

const PackageJson = z.object({ name: z.literal('winfleet'), version: z.string().min(1) });
let packageVersion: string | undefined;

/**
 * The version in winfleet's package.json, read once. The file is looked for in the folders
 * above this module, because the connector also runs as a bundle under
 * `node_modules/.cache/winfleet/`; "unknown" when it cannot be found, since a version label
 * must never stop a connector from starting.
 */
export function connectorVersion(): string {
  packageVersion ??= findPackageVersion(new URL('.', import.meta.url)) ?? 'unknown';
  return packageVersion;
}

/** The version of the nearest winfleet package.json in `from` or a folder above it. */
export function findPackageVersion(from: URL): string | undefined {
  for (let dir = from; ; dir = new URL('..', dir)) {
    const parsed = PackageJson.safeParse(readJson(new URL('package.json', dir)));
    if (parsed.success) return parsed.data.version;
    if (new URL('..', dir).href === dir.href) return undefined;
  }
}

function readJson(file: URL): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Writes the connector's health (`connectorLastSeenAt`, `connectorVersion`) to its own site's
 * item of the sites table, where `GET /sites` reads it. Only those attributes are named: the
 * connector's IAM policy (infra/connector-access.ts) allows no others on that table. Best
 * effort: a failed report is logged and the next one tries again; nothing waits on it.
 */
export class SiteHealthReporter {
  readonly #options: SiteHealthReporterOptions;
  readonly #version: string;

  constructor(options: SiteHealthReporterOptions) {
    this.#options = options;
    this.#version = options.version ?? connectorVersion();
  }

  /** Reports now, then every interval until `signal` aborts. Never throws. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.report(signal);
      await sleep(this.#options.intervalMs, undefined, { signal }).catch(() => {});
    }
  }

  /** One report; a failure is logged at warn and returned, never thrown. */
  async report(signal?: AbortSignal): Promise<SiteHealthOutcome> {
    const { client, prefix, siteId, logger, offline, now = () => new Date() } = this.#options;
    if (offline?.()) {
      logger.debug({ siteId }, 'site health report skipped while offline');
      return 'skipped';
    }
    try {
      await client.send(
        new UpdateCommand({
          TableName: tableName(prefix, 'sites'),
          Key: { siteId },
          UpdateExpression: 'SET connectorLastSeenAt = :seenAt, connectorVersion = :version',
          // An unregistered site gets no half item that the site listing could not parse.
          ConditionExpression: 'attribute_exists(siteId)',
          ExpressionAttributeValues: { ':seenAt': now().toISOString(), ':version': this.#version },
        }),
        { abortSignal: signal },
      );
      return 'written';
    } catch (error) {
      if (signal?.aborted) return 'skipped';
      const unregistered = error instanceof ConditionalCheckFailedException;
      logger.warn({ err: error, siteId, unregistered }, 'site health not reported');
      return 'failed';
    }
  }
}
