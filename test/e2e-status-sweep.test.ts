import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../cli/api-client.ts';
import { type LocalStack, startLocalStack } from '../local/stack.ts';
import { waitForOperation } from '../local/wait.ts';
import { createLogger } from '../shared/logger.ts';
import { readResultBatches } from '../shared/result-batch-store.ts';
import { StatusOutput } from '../shared/scripts/status.ts';

const SITES = 3;
const DEVICES_PER_SITE = 20;

describe('a status operation end to end', () => {
  let stack: LocalStack;
  let dataDir: string;
  let api: ApiClient;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'winfleet-e2e-'));
    stack = await startLocalStack({
      dataDir,
      port: 0,
      sites: SITES,
      devicesPerSite: DEVICES_PER_SITE,
      latencyMs: 0,
      subnetBase: 40,
      schedules: false,
      logger: createLogger('e2e', { file: join(dataDir, 'logs', 'local.log') }),
    });
    api = new ApiClient(stack.url, stack.token);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs on every device of three sites and lands in the API, DynamoDB and the archives', async () => {
    const accepted = await api.submit({ type: 'status', targets: { all: true } });
    expect(accepted.total).toBe(SITES * DEVICES_PER_SITE);

    const operation = await waitForOperation(api, accepted.operationId, { pollMs: 250 });
    expect(operation.status).toBe('Success');
    expect(operation.counts).toEqual({ Success: SITES * DEVICES_PER_SITE });

    const results = await api.allResults(accepted.operationId);
    const expectedIds = stack.devices.map((d) => d.deviceId).sort();
    expect(results.map((r) => r.deviceId).sort()).toEqual(expectedIds);
    for (const result of results) {
      expect(result.status).toBe('Success');
      const output = StatusOutput.parse(result.output);
      const device = stack.devices.find((d) => d.deviceId === result.deviceId);
      expect(output.computerName).toBe(device?.computerName);
      expect(result.siteId).toBe(device?.siteId);
    }

    expect((await storedResults(accepted.operationId)).sort()).toEqual(expectedIds);
    for (const site of stack.sites) {
      const archived = archivedResults(stack.paths.site(site.siteId).archive, accepted.operationId);
      const siteDevices = stack.devices.filter((d) => d.siteId === site.siteId);
      expect(archived.map((r) => r.device_id).sort()).toEqual(
        siteDevices.map((d) => d.deviceId).sort(),
      );
      expect(new Set(archived.map((r) => r.status))).toEqual(new Set(['Success']));
    }
  }, 120_000);

  /** The device ids held by the operation's batch items in DynamoDB, read past the API. */
  async function storedResults(operationId: string): Promise<string[]> {
    const doc = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        region: 'us-east-1',
        endpoint: process.env.WINFLEET_DYNAMODB_ENDPOINT,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
    );
    const batches = await readResultBatches(doc, 'winfleet-', operationId);
    doc.destroy();
    return batches.flatMap((batch) => batch.entries.map((entry) => entry.d));
  }
});

function archivedResults(path: string, operationId: string) {
  const db = new Database(path, { readonly: true });
  try {
    return db
      .prepare('SELECT operation_id, device_id, status FROM results WHERE operation_id = ?')
      .all(operationId) as Array<{ operation_id: string; device_id: string; status: string }>;
  } finally {
    db.close();
  }
}
