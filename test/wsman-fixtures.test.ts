import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type DecodedWsmanResponse, decodeWsmanResponse } from '../connector/wsman/index.ts';

// Real captures from Windows hosts live beside the repo (see their README); never copied in.
const FIXTURES = resolve(import.meta.dirname, '..', '..', 'shared', 'fixtures', 'wsman');
const files = readdirSync(FIXTURES).filter((name) => /\.(xml|txt)$/.test(name));

function decode(name: string): DecodedWsmanResponse {
  return decodeWsmanResponse(readFileSync(join(FIXTURES, name), 'utf8'));
}

type Ok = Extract<DecodedWsmanResponse, { streams: unknown }>;
type Fault = Extract<DecodedWsmanResponse, { fault: unknown }>;

function ok(name: string): Ok {
  const decoded = decode(name);
  if (!('streams' in decoded)) throw new Error(`${name} decoded as a fault`);
  return decoded;
}

function fault(name: string): Fault['fault'] {
  const decoded = decode(name);
  if (!('fault' in decoded)) throw new Error(`${name} did not decode as a fault`);
  return decoded.fault;
}

/** What every capture must decode to, by file name prefix. */
const EXPECTED: Record<string, (name: string) => void> = {
  '01': (name) => expect(ok(name).shellId).toBe('4283CBDC-3706-415B-88BD-B385F3E51A53'),
  '02': (name) => expect(ok(name).commandId).toBe('CF84C20A-0A35-43FA-AF78-0B4711DA5F30'),
  '03': (name) =>
    expect(ok(name)).toMatchObject({
      streams: { stdout: 'hi\r\n', stderr: '' },
      commandState: 'Done',
      exitCode: 0,
    }),
  '04': (name) => expect(ok(name).action).toMatch(/\/SignalResponse$/),
  '05': (name) => expect(ok(name).action).toMatch(/\/DeleteResponse$/),
  '11': (name) =>
    expect(ok(name)).toMatchObject({
      streams: { stdout: 'out \r\n', stderr: 'err \r\n' },
      exitCode: 1,
    }),
  '21': (name) =>
    expect(ok(name)).toMatchObject({ streams: { stdout: 'こんにちは\n' }, exitCode: 0 }),
  '30': (name) =>
    expect(ok(name)).toMatchObject({
      streams: { stdout: 'hi\n' },
      commandState: 'Running',
      exitCode: null,
    }),
  '32': (name) => expect(fault(name)).toMatchObject({ code: 2150858793, subcode: 'w:TimedOut' }),
  '33': (name) =>
    expect(ok(name)).toMatchObject({ streams: { stdout: 'hi again\n' }, exitCode: 0 }),
  '41': (name) => expect(ok(name).action).toMatch(/\/SendResponse$/),
  '43': (name) => expect(ok(name).streams.stdout).toBe('output 1\noutput 2\n'),
  '50': (name) =>
    expect(fault(name)).toMatchObject({
      code: 2150858843,
      subcode: 'w:InvalidSelectors',
      message: expect.stringContaining('command identifier that does not exist'),
    }),
  '53': (name) =>
    expect(fault(name)).toMatchObject({
      code: 2147942402,
      message: 'The system cannot find the file specified.',
      machine: 'server2008r2.domain.local',
    }),
  '70': (name) =>
    expect(ok(name).config).toMatchObject({
      MaxEnvelopeSizekb: '150',
      'Service.MaxConcurrentOperationsPerUser': '1500',
    }),
  '80': (name) => {
    const decoded = ok(name);
    expect(decoded.streams.stderr).toMatch(/^fake : The term 'fake' is not recognized/);
    expect(decoded.streams.stderr).toContain('Check \r\nthe spelling');
    expect(decoded.streams.stderr).toContain(
      'FullyQualifiedErrorId : CommandNotFoundException\r\n',
    );
    expect(decoded.streams.stderr).not.toContain('_x000D_');
    expect(decoded.psStreams?.progress).toEqual([
      'Preparing modules for first use.',
      'Preparing modules for first use.',
    ]);
  },
  '81': (name) => {
    const decoded = ok(name);
    expect(decoded.streams.stderr).toBe('');
    expect(decoded.psStreams?.progress).toHaveLength(2);
  },
};

describe('real Windows captures', () => {
  it('finds every capture the README lists', () => {
    expect(files.length).toBeGreaterThanOrEqual(17);
  });

  it.each(files)('decodes %s', (name) => {
    const check = EXPECTED[name.slice(0, 2)];
    if (!check) throw new Error(`no expectation for capture ${name}`);
    check(name);
  });
});
