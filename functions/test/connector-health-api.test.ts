import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectorVersion } from '../../connector/cloud/index.ts';
import { resolveConnectorConfig } from '../../connector/config.ts';
import { ConnectorService } from '../../connector/service.ts';
import { eventually } from '../../connector/testing/batches.ts';
import { TestDoubleTransport } from '../../connector/testing/test-double-transport.ts';
import { createLogger } from '../../shared/logger.ts';
import { type ApiStack, siteOf, startApiStack } from './api-stack.ts';

const logger = createLogger('test', { level: 'silent' });

interface ListedSite {
  siteId: string;
  connectorLastSeenAt?: string;
  connectorVersion?: string;
  queueDepth?: number;
}

describe("GET /sites with a running site's connector", () => {
  let stack: ApiStack;
  let dir: string;
  let service: ConnectorService;
  let running: Promise<void>;

  beforeAll(async () => {
    stack = await startApiStack([siteOf('site-h'), siteOf('site-quiet')], []);
    dir = mkdtempSync(path.join(tmpdir(), 'winfleet-site-health-'));
    const config = resolveConnectorConfig(
      {
        siteId: 'site-h',
        dataDir: path.join(dir, 'site-h'),
        prefix: stack.env.WINFLEET_PREFIX,
        dynamodbEndpoint: stack.env.WINFLEET_DYNAMODB_ENDPOINT,
        sqsEndpoint: stack.env.WINFLEET_SQS_ENDPOINT,
        healthReportSeconds: 0.05,
        transport: { type: 'wsman', auth: { type: 'basic', user: 'u', password: 'p' } },
      },
      path.join(dir, 'connector.json'),
    );
    service = new ConnectorService({ config, transport: new TestDoubleTransport(), logger });
    running = service.run();
  });

  afterAll(async () => {
    service?.stop();
    await running;
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function listed(): Promise<ListedSite[]> {
    const response = await stack.call('GET', '/sites');
    expect(response.status).toBe(200);
    return (response.json as { items: ListedSite[] }).items;
  }

  it("shows the connector's last seen time and version, and none for a site without one", async () => {
    let sites: ListedSite[] = [];
    await eventually(async () => {
      sites = await listed();
      return sites.some((site) => site.connectorLastSeenAt !== undefined);
    });

    const [healthy, quiet] = sites;
    expect(healthy).toMatchObject({ siteId: 'site-h', connectorVersion: connectorVersion() });
    expect(Date.parse(healthy?.connectorLastSeenAt ?? '')).not.toBeNaN();
    expect(healthy?.queueDepth).toBe(0);
    expect(quiet?.siteId).toBe('site-quiet');
    expect(quiet).not.toHaveProperty('connectorLastSeenAt');
    expect(quiet).not.toHaveProperty('connectorVersion');
  });

  it('moves the last seen time on with every report', async () => {
    const first = (await listed())[0]?.connectorLastSeenAt;

    await eventually(async () => (await listed())[0]?.connectorLastSeenAt !== first);

    const next = (await listed())[0]?.connectorLastSeenAt ?? '';
    expect(next > (first ?? '')).toBe(true);
  });
});
