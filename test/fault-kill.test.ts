import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueUrlCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../cli/api-client.ts';
import { type LocalStack, startLocalStack } from '../local/stack.ts';
import { waitForOperation } from '../local/wait.ts';
import { createLogger } from '../shared/logger.ts';
import { siteQueueName } from '../shared/queues.ts';
import { readBatchProgress } from '../shared/result-batch-store.ts';
import { tableName } from '../shared/tables.ts';
import { archivedRows, recordCommandStarts, tempDir, waitFor } from './fault-support.ts';

const DEVICES = 60;
const KILLS = 3;
/** Short, so that a batch held by a killed connector comes back within seconds. */
const VISIBILITY_TIMEOUT_SECONDS = 3;
const SITE = 'site-01';

describe('a connector killed with SIGKILL several times during an operation', () => {
  let stack: LocalStack;
  let dataDir: string;
  let api: ApiClient;

  beforeAll(async () => {
    dataDir = tempDir('kill');
    stack = await startLocalStack({
      dataDir,
      port: 0,
      sites: 1,
      devicesPerSite: DEVICES,
      latencyMs: 120,
      subnetBase: 92,
      schedules: false,
      logger: createLogger('fault-kill', { file: path.join(dataDir, 'logs', 'local.log') }),
    });
    api = new ApiClient(stack.url, stack.token);
    await shortenVisibility();
    // The connector reads the visibility timeout at start: restart it once to pick up 3 s.
    await killConnector();
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    if (!process.env.KEEP_FAULT_DIR) rmSync(dataDir, { recursive: true, force: true });
  });

  const pidFile = () => stack.paths.site(SITE).pid;
  const readPid = () => {
    try {
      return Number(readFileSync(pidFile(), 'utf8').trim());
    } catch {
      return undefined;
    }
  };

  /** SIGKILL the connector, then wait for the supervisor's replacement to write its pid. */
  async function killConnector(): Promise<void> {
    await waitFor('a connector pid', () => readPid() !== undefined);
    const pid = readPid() ?? 0;
    process.kill(pid, 'SIGKILL');
    await waitFor('the restarted connector', () => (readPid() ?? pid) !== pid, {
      timeoutMs: 30_000,
    });
  }

  async function shortenVisibility(): Promise<void> {
    const sqs = new SQSClient({
      region: 'us-east-1',
      endpoint: process.env.WINFLEET_SQS_ENDPOINT,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const { QueueUrl } = await sqs.send(
      new GetQueueUrlCommand({
        QueueName: siteQueueName('winfleet-', SITE),
      }),
    );
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl,
        Attributes: { VisibilityTimeout: String(VISIBILITY_TIMEOUT_SECONDS) },
      }),
    );
    sqs.destroy();
  }

  /** Devices the restarted connectors skipped because the archive had their results. */
  function skippedOnRedelivery(): number {
    const log = readFileSync(path.join(stack.paths.logs, `connector-${SITE}.log`), 'utf8');
    return log
      .split('\n')
      .filter((line) => line.includes('"batch started"'))
      .reduce((sum, line) => sum + Number(JSON.parse(line).skipped ?? 0), 0);
  }

  /** The operation's status and its counts summed over its batch items, read from DynamoDB. */
  async function storedProgress(operationId: string) {
    const doc = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        region: 'us-east-1',
        endpoint: process.env.WINFLEET_DYNAMODB_ENDPOINT,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
    );
    try {
      const out = await doc.send(
        new GetCommand({ TableName: tableName('winfleet-', 'operations'), Key: { operationId } }),
      );
      const { done, counts } = await readBatchProgress(doc, 'winfleet-', operationId);
      return { status: out.Item?.status, done, counts };
    } finally {
      doc.destroy();
    }
  }

  it('ends with exactly one final result per device and exact counts', async () => {
    const fleet = stack.fleets[0];
    if (!fleet) throw new Error('no fleet');
    const starts = recordCommandStarts(fleet);
    const accepted = await api.submit({ type: 'status', targets: { all: true }, force: true });
    expect(accepted.total).toBe(DEVICES);

    // Each kill lands once more results are archived, with other devices still in flight.
    const archive = stack.paths.site(SITE).archive;
    const archived = () => archivedRows(archive, accepted.operationId).length;
    for (let kill = 0; kill < KILLS; kill += 1) {
      const target = Math.min(DEVICES - 5, archived() + 12);
      await waitFor('more archived results', () => archived() >= target, {
        timeoutMs: 30_000,
        intervalMs: 20,
      });
      await killConnector();
    }
    const operation = await waitForOperation(api, accepted.operationId, {
      pollMs: 250,
      signal: AbortSignal.timeout(50_000),
    });

    expect(operation.status).toBe('Success');
    expect(operation.counts).toEqual({ Success: DEVICES });
    const results = await api.allResults(accepted.operationId);
    const ids = results.map((r) => r.deviceId).sort();
    expect(ids).toEqual(stack.devices.map((d) => d.deviceId).sort());
    expect(new Set(results.map((r) => r.status))).toEqual(new Set(['Success']));
    await waitFor(
      'the stored status to settle',
      async () => (await storedProgress(accepted.operationId)).status !== 'InProgress',
      { timeoutMs: 15_000, intervalMs: 250 },
    ).catch(() => undefined);
    expect(await storedProgress(accepted.operationId)).toEqual({
      status: 'Success',
      done: DEVICES,
      counts: { Success: DEVICES },
    });
    await waitFor('the archive to record every delivery', () =>
      archivedRows(stack.paths.site(SITE).archive, accepted.operationId).every(
        (r) => r.delivered_at !== null,
      ),
    );
    const rows = archivedRows(stack.paths.site(SITE).archive, accepted.operationId);
    expect(rows.map((r) => r.device_id)).toEqual(ids);
    // A device whose result was archived never ran again; only devices in flight re-ran.
    for (const row of rows) {
      const device = stack.devices.find((d) => d.deviceId === row.device_id);
      const late = (starts.get(device?.computerName ?? '') ?? []).filter(
        (t) => t > Date.parse(row.finished_at),
      );
      expect(late, row.device_id).toEqual([]);
    }
    expect(stack.supervisor.restartCount(SITE)).toBe(KILLS + 1);
    expect(skippedOnRedelivery()).toBeGreaterThan(0);
  }, 90_000);
});
