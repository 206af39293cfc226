import {
  type DynamoDBDocumentClient,
  GetCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { CloudEnv } from '../../shared/config.ts';
import { Site } from '../../shared/schemas/index.ts';
import { tableName } from '../../shared/tables.ts';
import { putAll } from './batch-write.ts';
import { parseItem, setExpression } from './items.ts';

/** A site as stored: its configuration plus its connector's health. */
export const SiteItem = z.object({
  ...Site.shape,
  connectorLastSeenAt: z.string().optional(),
  connectorVersion: z.string().optional(),
});
export type SiteItem = z.infer<typeof SiteItem>;

/** Registers or replaces sites (BatchWriteItem, 25 per call, unprocessed items retried). */
export async function putSites(
  doc: DynamoDBDocumentClient,
  env: CloudEnv,
  sites: readonly z.input<typeof Site>[],
): Promise<void> {
  const items = sites.map((site) => Site.parse(site));
  await putAll(doc, tableName(env.WINFLEET_PREFIX, 'sites'), items);
}

/** Every site, sorted by id. Sites number in the hundreds at most, so one scan suffices. */
export async function listSites(doc: DynamoDBDocumentClient, env: CloudEnv): Promise<SiteItem[]> {
  const table = tableName(env.WINFLEET_PREFIX, 'sites');
  const sites: SiteItem[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(new ScanCommand({ TableName: table, ExclusiveStartKey: startKey }));
    for (const item of out.Items ?? []) {
      sites.push(parseItem(SiteItem, item, table, String(item.siteId)));
    }
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return sites.sort((a, b) => a.siteId.localeCompare(b.siteId));
}

/** Registers or replaces one site's configuration, keeping its connector's health fields. */
export async function putSite(
  doc: DynamoDBDocumentClient,
  env: CloudEnv,
  site: Site,
): Promise<void> {
  await doc.send(
    new UpdateCommand({
      TableName: tableName(env.WINFLEET_PREFIX, 'sites'),
      Key: { siteId: site.siteId },
      ...setExpression(site, ['siteId']),
    }),
  );
}

/** The site with this id, or undefined. */
export async function getSite(
  doc: DynamoDBDocumentClient,
  env: CloudEnv,
  siteId: string,
): Promise<SiteItem | undefined> {
  const table = tableName(env.WINFLEET_PREFIX, 'sites');
  const out = await doc.send(new GetCommand({ TableName: table, Key: { siteId } }));
  return out.Item ? parseItem(SiteItem, out.Item, table, siteId) : undefined;
}
