import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { STATUS_SCRIPT } from '../shared/scripts/index.ts';
import { bindArguments, operationScript } from './operation-script.ts';
import { type DeviceJob, judgeOutcome, runOnDevice } from './runner.ts';
import {
  ok,
  statusJson,
  TestDoubleTransport,
  unreachable,
} from './testing/test-double-transport.ts';

const device = { deviceId: 'dev-1', computerName: 'DEV-1', address: '127.12.0.1', port: 5985 };

function job(type: 'status' | 'script', parameters: unknown = {}): DeviceJob {
  return {
    operationId: 'op-0000000001',
    batchId: 'b-1',
    siteId: 'site-a',
    script: operationScript(type, parameters),
    timeoutMs: 1000,
  };
}

async function runWith(transport: TestDoubleTransport, deviceJob = job('status')) {
  return runOnDevice(transport, device, deviceJob, new AbortController().signal);
}

describe('runOnDevice', () => {
  it('reports Success with the parsed status document', async () => {
    const result = await runWith(new TestDoubleTransport(() => ok(statusJson('DEV-1'))));

    expect(result).toMatchObject({ status: 'Success', exitCode: 0, deviceId: 'dev-1' });
    expect(result.output).toMatchObject({ computerName: 'DEV-1', cpuPercent: 12.5 });
  });

  it('reports Failed with a clear error when the status script prints no JSON', async () => {
    const result = await runWith(new TestDoubleTransport(() => ok('Access denied')));

    expect(result.status).toBe('Failed');
    expect(result.error).toContain('expected one JSON document on stdout');
  });

  it('reports Failed when the status document misses a field', async () => {
    const result = await runWith(new TestDoubleTransport(() => ok('{"computerName":"x"}')));

    expect(result.status).toBe('Failed');
    expect(result.error).toContain('unexpected script output at uptimeSeconds');
  });

  it('reports Unreachable for an unreachable transport error and Failed for others', async () => {
    const down = await runWith(new TestDoubleTransport(() => unreachable('connect ECONNREFUSED')));
    const fault = await runWith(new TestDoubleTransport(() => new Error('access denied')));

    expect(down).toMatchObject({ status: 'Unreachable', error: 'connect ECONNREFUSED' });
    expect(fault).toMatchObject({ status: 'Failed', error: 'access denied' });
  });

  it('passes a caller script through unchanged when it has no arguments', async () => {
    const transport = new TestDoubleTransport((_d, script) => ok(script));

    const result = await runWith(transport, job('script', { script: 'Get-Date' }));

    expect(result).toMatchObject({ status: 'Success', stdout: 'Get-Date' });
    expect(result.output).toBeUndefined();
  });
});

describe('judgeOutcome', () => {
  const status = { script: STATUS_SCRIPT };

  it('maps TimedOut, non-zero and unknown exit codes to failure states', () => {
    const timedOut = { state: 'TimedOut', exitCode: undefined, stdout: '', stderr: '' } as const;
    expect(judgeOutcome(timedOut, status).status).toBe('TimedOut');
    expect(judgeOutcome({ ...ok(''), exitCode: 2 }, status).status).toBe('Failed');
    expect(judgeOutcome({ ...ok(''), exitCode: undefined }, status).status).toBe('Failed');
  });

  it('never throws and never reports Success for hostile stdout of a built-in script', () => {
    const { output } = operationScript('status', {});
    fc.assert(
      fc.property(fc.string(), (stdout) => {
        const verdict = judgeOutcome(ok(stdout), { script: STATUS_SCRIPT, output });
        expect(verdict.status).toBe('Failed');
      }),
    );
  });
});

describe('bindArguments', () => {
  it('carries argument values only inside base64, whatever they contain', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1 }), fc.string()), (args) => {
        fc.pre(Object.keys(args).length > 0);
        const script = bindArguments('param($a)', args);
        const encoded = /FromBase64String\('([A-Za-z0-9+/=]+)'\)/.exec(script)?.[1] ?? '';
        expect(JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'))).toEqual(args);
      }),
    );
  });

  it('rejects parameters that do not fit the operation type', () => {
    expect(() => operationScript('service', { name: "x'; rm", action: 'start' })).toThrow(
      'invalid parameters for a service operation',
    );
  });
});
