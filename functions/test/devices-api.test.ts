import { BatchWriteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePoints, metricBatchTimestamp, siteMetricsKey } from '../../shared/metric-batches.ts';
import { tableName } from '../../shared/tables.ts';
import { encodeCursor } from '../lib/cursor.ts';
import { type ApiStack, fleetOf, siteOf, startApiStack } from './api-stack.ts';

const SITES = ['east', 'west'];

interface OpenApiDoc {
  paths: Record<string, { get?: { description?: string } }>;
}

describe('device import and metrics', () => {
  let stack: ApiStack;

  beforeAll(async () => {
    stack = await startApiStack(SITES.map(siteOf), fleetOf(SITES, 2));
  });
  afterAll(() => stack?.stop());

  async function importCsv(text: string, query = '', contentType = 'text/csv') {
    const response = await fetch(`${stack.gateway.url}/devices/import${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.token}`, 'content-type': contentType },
      body: text,
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  async function getDevice(deviceId: string) {
    const out = await stack.doc.send(
      new GetCommand({
        TableName: tableName(stack.env.WINFLEET_PREFIX, 'devices'),
        Key: { deviceId },
      }),
    );
    return out.Item;
  }

  describe('POST /devices/import', () => {
    it('creates new devices and replaces known ones, keeping their last status', async () => {
      await stack.doc.send(
        new UpdateCommand({
          TableName: tableName(stack.env.WINFLEET_PREFIX, 'devices'),
          Key: { deviceId: 'east-dev-000' },
          UpdateExpression: 'SET lastStatus = :s',
          ExpressionAttributeValues: { ':s': 'Success' },
        }),
      );
      const text =
        'computerName,address,siteId,tags\n' +
        'EAST-DEV-000,10.1.0.1,east,ring=canary\n' +
        'EAST-NEW-1,10.1.0.2,east,\n' +
        '"WEST-NEW-1","10.2.0.1","west","os=win11;floor=2"\n';

      const response = await importCsv(text);

      expect(response.status).toBe(200);
      expect(response.json).toEqual({ imported: 3, created: 2, updated: 1, skipped: 0 });
      expect(await getDevice('east-dev-000')).toMatchObject({
        address: '10.1.0.1',
        tags: { ring: 'canary' },
        lastStatus: 'Success',
      });
      expect(await getDevice('west-new-1')).toMatchObject({ tags: { os: 'win11', floor: '2' } });
    });

    it('imports an Active Directory export into the site named in the query', async () => {
      const text =
        '#TYPE Microsoft.ActiveDirectory.Management.ADComputer\r\n' +
        '"DistinguishedName","DNSHostName","Enabled","Name","SamAccountName"\r\n' +
        '"CN=AD-01,OU=PCs,DC=corp,DC=example","AD-01.corp.example","True","AD-01","AD-01$"\r\n' +
        '"CN=AD-02,OU=PCs,DC=corp,DC=example","AD-02.corp.example","False","AD-02","AD-02$"\r\n';

      const response = await importCsv(text, '?siteId=west', 'text/csv; charset=utf-8');

      expect(response.json).toEqual({ imported: 1, created: 1, updated: 0, skipped: 1 });
      expect(await getDevice('ad-01')).toMatchObject({
        address: 'AD-01.corp.example',
        siteId: 'west',
      });
    });

    it('returns 400 listing each bad row by line and writes nothing', async () => {
      const text =
        'computerName,address,siteId\n' +
        'OK-1,10.3.0.1,east\n' +
        'bad name,10.3.0.2,east\n' +
        'OK-2,,east\n';

      const response = await importCsv(text);

      expect(response.status).toBe(400);
      expect(response.json).toMatchObject({
        error: {
          code: 'InvalidRows',
          details: {
            rows: [
              { line: 3, reasons: [expect.stringMatching(/^deviceId: /)] },
              { line: 4, reasons: [expect.stringMatching(/^address: /)] },
            ],
          },
        },
      });
      expect(await getDevice('ok-1')).toBeUndefined();
    });

    it('returns 400 naming an unknown site and writes nothing', async () => {
      const response = await importCsv('name,address,site\nNS-1,10.4.0.1,east\nNS-2,x,north\n');

      expect(response.status).toBe(400);
      expect(response.json).toMatchObject({
        error: { code: 'UnknownSite', details: { siteIds: ['north'] } },
      });
      expect(await getDevice('ns-1')).toBeUndefined();
    });

    it('returns 415 for a JSON body and 400 for an empty one', async () => {
      const json = await importCsv('{"devices":[]}', '', 'application/json');
      const empty = await importCsv('');

      expect(json.status).toBe(415);
      expect(empty.status).toBe(400);
    });

    it('answers arbitrary CSV with 200 or a 4xx, never a 5xx', async () => {
      const cell = fc.oneof(
        fc.string({ maxLength: 12 }),
        fc.constantFrom('east', 'nowhere', '"', ',', '\n', '=', 'a=b;c', '10.0.0.1', 'X$'),
      );
      const row = fc.array(cell, { minLength: 1, maxLength: 5 }).map((cells) => cells.join(','));
      const header = fc.shuffledSubarray(
        ['name', 'computerName', 'address', 'siteId', 'tags', 'port', 'Enabled', 'tag:ring'],
        { minLength: 1 },
      );
      const csv = fc
        .tuple(header, fc.array(row, { maxLength: 4 }))
        .map(([h, rows]) => [h.join(','), ...rows].join('\n'));

      await fc.assert(
        fc.asyncProperty(csv, async (text) => {
          const response = await importCsv(text);
          expect(response.status).toBeLessThan(500);
        }),
        { numRuns: 60 },
      );
    });
  });

  it('documents the CSV body of the import in the OpenAPI document', async () => {
    const response = await stack.call('GET', '/openapi.json');

    expect(response.json).toMatchObject({
      paths: {
        '/devices/import': { post: { requestBody: { content: { 'text/csv': {} } } } },
        '/devices/{id}/metrics': { get: { operationId: 'devices-metrics' } },
      },
    });
  });

  it('documents cut result text and where the whole of it is', async () => {
    const response = await stack.call('GET', '/openapi.json');
    const results = (response.json as OpenApiDoc).paths['/operations/{id}/results']?.get;

    expect(results?.description).toMatch(/stdoutTruncated.*stdoutChars.*archive/);
  });

  describe('GET /devices/{id}/metrics', () => {
    const HOUR_MS = 3_600_000;
    const now = Date.now();
    const at = (hoursAgo: number) => new Date(now - hoursAgo * HOUR_MS).toISOString();

    beforeAll(async () => {
      // Points as connector/cloud/metrics-writer.ts stores them, 30 h back to 1 h back.
      const items = [30, 20, 10, 3, 2, 1].map((hoursAgo) => ({
        deviceId: 'east-dev-001',
        timestamp: at(hoursAgo),
        siteId: 'east',
        operationId: 'op-0000000000aa',
        uptimeSeconds: 1000,
        cpuPercent: hoursAgo,
        memoryTotalBytes: 8e9,
        memoryFreeBytes: 4e9,
        diskFreeBytes: 1e11,
        diskTotalBytes: 2e11,
        expiresAt: Math.floor(now / 1000) + 86_400,
      }));
      await stack.doc.send(
        new BatchWriteCommand({
          RequestItems: {
            [tableName(stack.env.WINFLEET_PREFIX, 'metrics')]: items.map((Item) => ({
              PutRequest: { Item },
            })),
          },
        }),
      );
    });

    it('returns the last 24 hours oldest first by default', async () => {
      const response = await stack.call('GET', '/devices/east-dev-001/metrics');

      expect(response.status).toBe(200);
      const page = response.json as { items: { cpuPercent: number }[]; nextCursor?: string };
      expect(page.items.map((p) => p.cpuPercent)).toEqual([20, 10, 3, 2, 1]);
      expect(page.nextCursor).toBeUndefined();
    });

    it('pages through a window given with a time-zone offset', async () => {
      const from = encodeURIComponent(at(31).replace('Z', '+00:00'));
      const to = encodeURIComponent(at(2));
      const seen: number[] = [];
      let cursor: string | undefined;
      do {
        const query = `?from=${from}&to=${to}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
        const response = await stack.call('GET', `/devices/east-dev-001/metrics${query}`);
        expect(response.status).toBe(200);
        const page = response.json as { items: { cpuPercent: number }[]; nextCursor?: string };
        seen.push(...page.items.map((p) => p.cpuPercent));
        cursor = page.nextCursor;
      } while (cursor);

      expect(seen).toEqual([30, 20, 10, 3, 2]);
    });

    it('adds the points of batch items in the site partition, after the per-device ones', async () => {
      const baseTime = at(1.5);
      const point = (deviceId: string, hoursAgo: number, cpuPercent: number) => ({
        deviceId,
        timestamp: at(hoursAgo),
        uptimeSeconds: 10,
        cpuPercent,
        memoryTotalBytes: 8e9,
        memoryFreeBytes: 4e9,
        diskFreeBytes: 1e11,
        diskTotalBytes: 2e11,
      });
      // As connector/cloud/metrics-writer.ts stores a batch: one item, points gzip-packed.
      const points = [point('east-dev-000', 1.4, 77), point('east-dev-001', 1.4, 55)];
      await stack.doc.send(
        new BatchWriteCommand({
          RequestItems: {
            [tableName(stack.env.WINFLEET_PREFIX, 'metrics')]: [
              {
                PutRequest: {
                  Item: {
                    deviceId: siteMetricsKey('east'),
                    timestamp: metricBatchTimestamp(baseTime, 'op-0000000000bb', 'b-1'),
                    siteId: 'east',
                    operationId: 'op-0000000000bb',
                    baseTime,
                    pointCount: points.length,
                    points: encodePoints(points, Date.parse(baseTime)),
                  },
                },
              },
            ],
          },
        }),
      );

      const first = await stack.call('GET', `/devices/east-dev-001/metrics?limit=5`);
      const page = first.json as { items: { cpuPercent: number }[]; nextCursor?: string };
      const second = await stack.call(
        'GET',
        `/devices/east-dev-001/metrics?limit=5&cursor=${page.nextCursor}`,
      );

      expect(page.items.map((p) => p.cpuPercent)).toEqual([20, 10, 3, 2, 1]);
      expect(second.json).toMatchObject({
        items: [{ cpuPercent: 55, siteId: 'east', operationId: 'op-0000000000bb' }],
      });
    });

    it('returns at most limit points of batch items, and a cursor that resumes after the last', async () => {
      const point = (deviceId: string, hoursAgo: number, cpuPercent: number) => ({
        deviceId,
        timestamp: at(hoursAgo),
        uptimeSeconds: 10,
        cpuPercent,
        memoryTotalBytes: 8e9,
        memoryFreeBytes: 4e9,
        diskFreeBytes: 1e11,
        diskTotalBytes: 2e11,
      });
      const batchItem = (hoursAgo: number, points: ReturnType<typeof point>[]) => {
        const baseTime = at(hoursAgo);
        return {
          deviceId: siteMetricsKey('east'),
          timestamp: metricBatchTimestamp(baseTime, 'op-0000000000cc', `b-${hoursAgo}`),
          siteId: 'east',
          operationId: 'op-0000000000cc',
          baseTime,
          pointCount: points.length,
          points: encodePoints(points, Date.parse(baseTime)),
        };
      };
      const dev = 'east-dev-000';
      const items = [
        batchItem(5, [point(dev, 4.9, 51), point('east-dev-001', 4.9, 99), point(dev, 4.8, 52)]),
        batchItem(4, [point(dev, 3.9, 53)]),
        batchItem(3, [point('east-dev-001', 2.9, 98), point(dev, 2.9, 54), point(dev, 2.8, 55)]),
      ];
      const table = tableName(stack.env.WINFLEET_PREFIX, 'metrics');
      await stack.doc.send(
        new BatchWriteCommand({
          RequestItems: { [table]: items.map((Item) => ({ PutRequest: { Item } })) },
        }),
      );

      const pagesOf = async (limit: number) => {
        const pages: number[][] = [];
        let cursor: string | undefined;
        do {
          const query = `from=${at(6)}&to=${at(2)}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
          const response = await stack.call('GET', `/devices/${dev}/metrics?${query}`);
          expect(response.status).toBe(200);
          const page = response.json as { items: { cpuPercent: number }[]; nextCursor?: string };
          pages.push(page.items.map((p) => p.cpuPercent));
          cursor = page.nextCursor;
        } while (cursor && pages.length < 10);
        return pages;
      };

      expect(await pagesOf(1)).toEqual([[51], [52], [53], [54], [55], []]);
      expect(await pagesOf(2)).toEqual([[51, 52], [53, 54], [55]]);
    });

    it('returns 400 InvalidCursor for a cursor reused with another window', async () => {
      const first = await stack.call('GET', `/devices/east-dev-001/metrics?from=${at(31)}&limit=1`);
      const { nextCursor } = first.json as { nextCursor?: string };
      expect(nextCursor).toBeDefined();

      const reused = await stack.call(
        'GET',
        `/devices/east-dev-001/metrics?from=${at(25)}&limit=1&cursor=${nextCursor}`,
      );

      expect(reused.status).toBe(400);
      expect(reused.json).toMatchObject({ error: { code: 'InvalidCursor' } });
    });

    it('returns 400 for a time that is not ISO 8601, or from after to', async () => {
      const notIso = await stack.call('GET', '/devices/east-dev-001/metrics?from=yesterday');
      const reversed = await stack.call(
        'GET',
        `/devices/east-dev-001/metrics?from=${at(1)}&to=${at(2)}`,
      );

      expect(notIso.status).toBe(400);
      expect(reversed.json).toMatchObject({ error: { code: 'InvalidRange' } });
    });

    it('returns 400 for a cursor of another device', async () => {
      const key = { deviceId: 'west-dev-000', timestamp: at(3) };
      const forged = encodeCursor(key, { deviceId: 'east-dev-001' });

      const response = await stack.call('GET', `/devices/east-dev-001/metrics?cursor=${forged}`);

      expect(response.json).toMatchObject({ error: { code: 'InvalidCursor' } });
    });

    it('returns 404 for a device that is not registered', async () => {
      const response = await stack.call('GET', '/devices/nobody/metrics');

      expect(response.status).toBe(404);
    });
  });
});
