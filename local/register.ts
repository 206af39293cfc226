import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { putAll } from '../functions/lib/batch-write.ts';
import type { CloudEnv } from '../shared/config.ts';
import type { Device } from '../shared/schemas/device.ts';
import type { Site } from '../shared/schemas/site.ts';
import { tableName } from '../shared/tables.ts';

/** Registers the simulated sites and devices in DynamoDB, as an operator's import would. */
export async function registerFleet(
  doc: DynamoDBDocumentClient,
  env: CloudEnv,
  sites: Site[],
  devices: Device[],
): Promise<void> {
  await putAll(doc, tableName(env.WINFLEET_PREFIX, 'sites'), sites);
  await putAll(doc, tableName(env.WINFLEET_PREFIX, 'devices'), devices);
}
