import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError, LOCAL_API_URL, resolveConnection } from './connection.ts';

describe('resolveConnection', () => {
  let dir: string;
  let configPath: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'winfleet-connection-'));
    configPath = join(dir, 'config.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        defaultProfile: 'lab',
        profiles: {
          lab: { kind: 'token', apiUrl: 'http://lab.example:8787', token: 'lab-token' },
          prod: {
            kind: 'aws',
            apiUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com',
            awsProfile: 'ops',
          },
        },
      }),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const noConfig = () => ({ WINFLEET_CONFIG: join(dir, 'absent.json') });

  it('prefers flags to the environment and the environment to the profile', () => {
    const env = { WINFLEET_CONFIG: configPath, WINFLEET_API_URL: 'http://env.example' };

    const fromFlags = resolveConnection({ apiUrl: 'http://flag.example', token: 't' }, { env });
    const fromEnv = resolveConnection({}, { env: { ...env, WINFLEET_TOKEN: 'env-token' } });
    const fromProfile = resolveConnection({}, { env: { WINFLEET_CONFIG: configPath } });

    expect(fromFlags).toEqual({ kind: 'token', apiUrl: 'http://flag.example', token: 't' });
    expect(fromEnv).toEqual({ kind: 'token', apiUrl: 'http://env.example', token: 'env-token' });
    expect(fromProfile).toEqual({
      kind: 'token',
      apiUrl: 'http://lab.example:8787',
      token: 'lab-token',
    });
  });

  it('signs for a profile of kind aws, taking the region from the execute-api host', () => {
    const connection = resolveConnection(
      { profile: 'prod' },
      { env: { WINFLEET_CONFIG: configPath } },
    );

    expect(connection).toEqual({
      kind: 'aws',
      apiUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com',
      region: 'eu-west-1',
      awsProfile: 'ops',
    });
  });

  it('signs with --aws, the region from the environment for a custom domain', () => {
    const connection = resolveConnection(
      { aws: true, apiUrl: 'https://fleet.example.com' },
      { env: { ...noConfig(), AWS_REGION: 'us-east-2' } },
    );

    expect(connection).toMatchObject({ kind: 'aws', region: 'us-east-2' });
  });

  it('reads the local stack token when nothing else is given', () => {
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'api-token'), 'local-token\n');

    const connection = resolveConnection(
      {},
      { env: { ...noConfig(), WINFLEET_DATA_DIR: dataDir } },
    );

    expect(connection).toEqual({ kind: 'token', apiUrl: LOCAL_API_URL, token: 'local-token' });
  });

  it('uses the address a local stack started with another --port wrote to its data folder', () => {
    const dataDir = join(dir, 'data-port');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'api-token'), 'local-token\n');
    writeFileSync(join(dataDir, 'api-url'), 'http://127.0.0.1:18787\n');

    const connection = resolveConnection(
      {},
      { env: { ...noConfig(), WINFLEET_DATA_DIR: dataDir } },
    );

    expect(connection).toEqual({
      kind: 'token',
      apiUrl: 'http://127.0.0.1:18787',
      token: 'local-token',
    });
  });

  it.each([
    ['a URL that is not http', { apiUrl: 'ftp://x.example', token: 't' }, /apiUrl/],
    ['a URL without a token', { apiUrl: 'http://x.example' }, /no token for http:\/\/x.example/],
    ['a bad region', { aws: true, apiUrl: 'https://x.example', region: 'mars' }, /AWS region/],
    ['an unknown flag', { apiUrl: 'http://x.example', token: 't', user: 'u' }, /user/],
    ['a missing profile file', { profile: 'lab' }, /absent.json does not exist/],
  ])('refuses %s', (_name, flags, message) => {
    expect(() => resolveConnection(flags, { env: noConfig() })).toThrow(message);
  });

  it('refuses an unknown profile, naming the known ones', () => {
    expect(() =>
      resolveConnection({ profile: 'staging' }, { env: { WINFLEET_CONFIG: configPath } }),
    ).toThrow(/no profile staging in .*\(it has: lab, prod\)/);
  });

  it('refuses a profile file with an unknown key', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({
        profiles: { x: { kind: 'token', apiUrl: 'http://x', token: 't', tls: 1 } },
      }),
    );

    expect(() => resolveConnection({}, { env: { WINFLEET_CONFIG: bad } })).toThrow(ConnectionError);
  });

  it('refuses when no local stack token exists either', () => {
    expect(() =>
      resolveConnection({}, { env: { ...noConfig(), WINFLEET_DATA_DIR: join(dir, 'none') } }),
    ).toThrow(/winfleet local up/);
  });
});
