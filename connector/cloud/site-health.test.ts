import { Writable } from 'node:stream';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableName } from '../../shared/tables.ts';
import { startTestCloud, type TestCloud } from '../testing/cloud.ts';
import { connectorVersion, findPackageVersion, SiteHealthReporter } from './site-health.ts';

const SEEN_AT = new Date('2025-03-01T10:00:00.000Z');

describe('SiteHealthReporter', () => {
  let cloud: TestCloud;
  const logs: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(JSON.parse(chunk.toString()));
        done();
      },
    }),
  );

  beforeAll(async () => {
    cloud = await startTestCloud('health-');
    await cloud.documents.send(
      new PutCommand({
        TableName: tableName(cloud.prefix, 'sites'),
        Item: { siteId: 'site-a', name: 'Site A', throttleLimit: 50 },
      }),
    );
  });

  afterAll(async () => {
    await cloud?.stop();
  });

  function reporter(siteId: string, offline = false) {
    return new SiteHealthReporter({
      client: cloud.documents,
      prefix: cloud.prefix,
      siteId,
      logger,
      intervalMs: 60_000,
      offline: () => offline,
      now: () => SEEN_AT,
    });
  }

  async function siteItem(siteId: string) {
    const out = await cloud.documents.send(
      new GetCommand({ TableName: tableName(cloud.prefix, 'sites'), Key: { siteId } }),
    );
    return out.Item;
  }

  it('sets last seen and version on the site item and leaves its configuration alone', async () => {
    expect(await reporter('site-a').report()).toBe('written');

    expect(await siteItem('site-a')).toEqual({
      siteId: 'site-a',
      name: 'Site A',
      throttleLimit: 50,
      connectorLastSeenAt: SEEN_AT.toISOString(),
      connectorVersion: connectorVersion(),
    });
  });

  it('creates no item for a site that is not registered and logs a warning', async () => {
    expect(await reporter('site-unknown').report()).toBe('failed');

    expect(await siteItem('site-unknown')).toBeUndefined();
    expect(logs).toContainEqual(
      expect.objectContaining({
        level: 40,
        msg: 'site health not reported',
        siteId: 'site-unknown',
        unregistered: true,
      }),
    );
  });

  it('skips the report while the cloud is away', async () => {
    expect(await reporter('site-b', true).report()).toBe('skipped');
  });

  it('reads the version from package.json', () => {
    expect(connectorVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('findPackageVersion', () => {
  it("finds winfleet's version from the bundled connector's folder under node_modules", () => {
    const bundleDir = new URL('../../node_modules/.cache/winfleet/', import.meta.url);

    expect(findPackageVersion(bundleDir)).toBe(connectorVersion());
    expect(connectorVersion()).not.toBe('unknown');
  });

  it('answers undefined where no winfleet package.json is above', () => {
    expect(findPackageVersion(new URL('file:///'))).toBeUndefined();
  });
});
