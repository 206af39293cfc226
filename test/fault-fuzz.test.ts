import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { Message } from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBatchMessage } from '../connector/batch-message.ts';
import { MalformedBatchError } from '../connector/errors.ts';
import { operationScript } from '../connector/operation-script.ts';
import { runOnDevice } from '../connector/runner.ts';
import type { ConnectorService } from '../connector/service.ts';
import { sendBody, statusBatch } from '../connector/testing/batches.ts';
import { createTransport } from '../connector/transports.ts';
import { type ApiStack, fleetOf, siteOf, startApiStack } from '../functions/test/api-stack.ts';
import { createLogger } from '../shared/logger.ts';
import { FinalDeviceState } from '../shared/schemas/result.ts';
import { connectorFor, tempDir, waitFor } from './fault-support.ts';

const logger = createLogger('fault-fuzz', { level: 'silent' });
const credentials = { user: 'fuzz-admin', password: 'fuzz-secret' };

/** A value that is almost a valid request: valid keys with hostile values, or noise. */
const hostileValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ maxLength: 300 }),
  fc.constantFrom('', ' ', '\u0000', '../../etc', '%00', 'NaN', '-1', '1e400', '{"a":'),
);
const operationBody = fc.record(
  {
    type: fc.oneof(
      fc.constantFrom('status', 'inventory', 'script', 'service', 'reboot'),
      hostileValue,
    ),
    targets: fc.oneof(
      fc.record({ all: fc.oneof(fc.boolean(), hostileValue) }),
      fc.record({ siteIds: fc.array(fc.oneof(fc.constant('site-a'), hostileValue)) }),
      fc.record({ deviceIds: fc.array(hostileValue, { maxLength: 5 }) }),
      fc.record({ tags: fc.dictionary(fc.string(), hostileValue) }),
      hostileValue,
    ),
    parameters: hostileValue,
    rateControl: fc.oneof(
      fc.record(
        {
          throttleLimit: hostileValue,
          maxErrors: fc.oneof(fc.integer(), fc.string(), fc.constant('150%')),
          timeoutSeconds: fc.oneof(fc.integer(), hostileValue),
        },
        { requiredKeys: [] },
      ),
      hostileValue,
    ),
    force: hostileValue,
  },
  { requiredKeys: [] },
);
/** Raw request bodies: broken JSON, JSON of the wrong shape, or near-valid requests. */
const rawBody = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  operationBody.map((v) => JSON.stringify(v)),
  operationBody.map((v) => JSON.stringify(v).slice(0, -1)),
);
const pathId = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._-]{1,40}$/),
  fc.string({ minLength: 1, maxLength: 60 }).map(encodeURIComponent),
);

describe('hostile API bodies', () => {
  let api: ApiStack;

  beforeAll(async () => {
    api = await startApiStack([siteOf('site-a')], fleetOf(['site-a'], 3));
  });
  afterAll(() => api?.stop());

  async function call(method: string, path: string, body?: string) {
    const response = await fetch(`${api.gateway.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
      body,
    });
    const text = await response.text();
    return { status: response.status, text };
  }

  const statuses = new Map<number, number>();

  function expectClientAnswer(answer: { status: number; text: string }, what: string): void {
    statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    expect(answer.status, `${what}: ${answer.text.slice(0, 200)}`).toBeLessThan(500);
    if (answer.status < 400) return;
    const parsed: unknown = JSON.parse(answer.text);
    expect(parsed, what).toMatchObject({
      error: { code: expect.any(String), message: expect.any(String) },
    });
  }

  it('answers every malformed write with a 4xx and an error body, never a 5xx', async () => {
    const routes = fc.oneof(
      fc.constant('POST /operations'),
      pathId.map((id) => `PUT /devices/${id}`),
      pathId.map((id) => `PUT /sites/${id}`),
      pathId.map((id) => `POST /operations/${id}/cancel`),
      fc.constant('POST /devices/import'),
    );
    await fc.assert(
      fc.asyncProperty(routes, rawBody, async (route, body) => {
        const [method = '', path = ''] = route.split(' ');
        expectClientAnswer(await call(method, path, body), `${route} ${body.slice(0, 80)}`);
      }),
      { numRuns: 250 },
    );
    // The bodies reached the handlers' validation: most are refused as bad requests.
    expect(statuses.get(400) ?? 0).toBeGreaterThan(100);
    expect(statuses.has(401)).toBe(false);
  }, 120_000);

  it('answers every malformed read with a 4xx, never a 5xx', async () => {
    const query = fc.dictionary(
      fc.constantFrom('status', 'cursor', 'limit', 'siteId', 'since', 'type', 'tag'),
      fc.string({ maxLength: 60 }),
    );
    const routes = fc.oneof(
      pathId.map((id) => `/operations/${id}`),
      pathId.map((id) => `/operations/${id}/results`),
      pathId.map((id) => `/devices/${id}/metrics`),
      fc.constantFrom('/operations', '/devices', '/sites'),
    );
    await fc.assert(
      fc.asyncProperty(routes, query, async (path, params) => {
        const url = `${path}?${new URLSearchParams(params).toString()}`;
        expectClientAnswer(await call('GET', url), url);
      }),
      { numRuns: 150 },
    );
  }, 120_000);
});

describe('hostile SQS messages', () => {
  it('parses a batch or throws MalformedBatchError, for any body', () => {
    const body = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      fc
        .record({
          key: fc.constantFrom(...Object.keys(statusBatch('op-fuzz0001', 1))),
          value: hostileValue,
        })
        .map(({ key, value }) =>
          JSON.stringify({ ...statusBatch('op-fuzz0001', 1), [key]: value }),
        ),
    );
    fc.assert(
      fc.property(body, (text) => {
        const message: Message = { MessageId: 'm-1', Body: text };
        try {
          parseBatchMessage(message, 'site-a');
        } catch (error) {
          expect(error).toBeInstanceOf(MalformedBatchError);
        }
      }),
      { numRuns: 500 },
    );
  });

  describe('through a running connector', () => {
    let api: ApiStack;
    let service: ConnectorService;
    let running: Promise<void>;
    let dir: string;

    beforeAll(async () => {
      api = await startApiStack([siteOf('site-a')], fleetOf(['site-a'], 1));
      dir = tempDir('fuzz');
      ({ service } = connectorFor({
        siteId: 'site-a',
        dir,
        prefix: api.env.WINFLEET_PREFIX,
        dynamodbEndpoint: api.env.WINFLEET_DYNAMODB_ENDPOINT ?? '',
        sqsEndpoint: api.env.WINFLEET_SQS_ENDPOINT ?? '',
        queueUrl: api.queueUrls.get('site-a') ?? '',
        credentials,
        logger,
        settings: { maxBatchesInFlight: 10 },
      }));
      running = service.run();
    });

    afterAll(async () => {
      service?.stop();
      await running;
      await api?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('sets aside every malformed message and keeps running', async () => {
      const bodies = fc.sample(
        fc.oneof(
          fc.string({ minLength: 1, maxLength: 200 }),
          fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) || 'null'),
        ),
        { numRuns: 120, seed: 6 },
      );
      for (const body of bodies) await sendBody(api.sqs, api.queueUrls.get('site-a') ?? '', body);

      await waitFor('every message to be seen', () => malformedSeen(service) >= bodies.length, {
        timeoutMs: 40_000,
        intervalMs: 100,
      });
      expect(service.lifecycle.state).toBe('running');
      expect(malformedSeen(service)).toBe(bodies.length);
    }, 60_000);
  });
});

/** Batches the connector has counted as malformed, read from its Prometheus registry. */
function malformedSeen(service: ConnectorService): number {
  const metric = service.health.registry.getSingleMetric('winfleet_connector_batches_total');
  const values = (
    metric as { hashMap?: Record<string, { labels: { outcome?: string }; value: number }> }
  )?.hashMap;
  return Object.values(values ?? {})
    .filter((v) => v.labels.outcome === 'malformed')
    .reduce((sum, v) => sum + v.value, 0);
}

describe('hostile device replies', () => {
  let server: Server;
  let requests = 0;
  let reply: { status: number; body: string; contentType: string } = {
    status: 200,
    body: '',
    contentType: 'application/soap+xml;charset=UTF-8',
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests += 1;
      req.resume();
      req.on('end', () => {
        res.writeHead(reply.status, { 'content-type': reply.contentType });
        res.end(reply.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(5985, '127.95.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const soap = (inner: string) =>
    `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><s:Body>${inner}</s:Body></s:Envelope>`;
  const replyArb = fc.record({
    status: fc.constantFrom(200, 200, 200, 400, 401, 404, 413, 500, 503),
    contentType: fc.constantFrom('application/soap+xml;charset=UTF-8', 'text/html', ''),
    body: fc.oneof(
      fc.string({ maxLength: 400 }),
      fc.string({ maxLength: 200 }).map(soap),
      fc.constantFrom(
        soap('<rsp:Shell><rsp:ShellId>x</rsp:ShellId></rsp:Shell>'),
        soap('<rsp:CommandResponse><rsp:CommandId></rsp:CommandId></rsp:CommandResponse>'),
        soap(
          '<rsp:ReceiveResponse><rsp:Stream Name="stdout">@@@</rsp:Stream></rsp:ReceiveResponse>',
        ),
        soap('<s:Fault><s:Code><s:Value>s:Receiver</s:Value></s:Code></s:Fault>'),
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;&a;&a;</x>',
        '\u0000\u0001\u0002',
      ),
    ),
  });

  it('turns any reply into the device result, never a thrown error', async () => {
    const transport = createTransport(
      { type: 'wsman', auth: { type: 'basic', ...credentials } },
      logger,
    );
    const job = {
      operationId: 'op-fuzz0001',
      batchId: 'op-fuzz0001-b1',
      siteId: 'site-a',
      script: operationScript('status', {}),
      timeoutMs: 2000,
    };
    const device = {
      deviceId: 'ws-fuzz',
      computerName: 'WS-FUZZ',
      address: '127.95.0.1',
      port: 5985,
    };
    try {
      await fc.assert(
        fc.asyncProperty(replyArb, async (next) => {
          reply = next;
          const result = await runOnDevice(transport, device, job, new AbortController().signal);
          expect(FinalDeviceState.options).toContain(result.status);
          expect(['Failed', 'Unreachable', 'TimedOut']).toContain(result.status);
          expect(result.error ?? '').not.toBe('');
        }),
        { numRuns: 200 },
      );
    } finally {
      await transport.close();
    }
    expect(requests).toBeGreaterThanOrEqual(200);
  }, 120_000);
});
