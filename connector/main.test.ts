import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './testing/batches.ts';
import { createSiteQueue, startTestCloud, type TestCloud } from './testing/cloud.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const TSX = createRequire(import.meta.url).resolve('tsx');

describe('connector/main.ts', () => {
  let cloud: TestCloud;
  let dir: string;

  beforeAll(async () => {
    cloud = await startTestCloud();
    await createSiteQueue(cloud.sqsClient, cloud.prefix, 'site-a');
    dir = mkdtempSync(path.join(tmpdir(), 'winfleet-main-'));
  });

  afterAll(async () => {
    await cloud.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes its pid file, drains on SIGTERM and exits 0 after logging each state', async () => {
    const configPath = path.join(dir, 'connector.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        siteId: 'site-a',
        dataDir: 'site-a',
        prefix: cloud.prefix,
        dynamodbEndpoint: cloud.dynamodb.endpoint,
        sqsEndpoint: cloud.sqs.endpoint,
        transport: { type: 'wsman', auth: { type: 'basic', user: 'u' } },
      }),
    );
    const child = spawn(process.execPath, ['--import', TSX, MAIN, '--config', configPath], {
      env: { ...process.env, WINFLEET_WINRM_PASSWORD: 'never-logged' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const pidPath = path.join(dir, 'site-a', 'connector.pid');

    await eventually(() => stderr.includes('"state":"running"'), 400);
    const pid = readFileSync(pidPath, 'utf8').trim();
    child.kill('SIGTERM');
    const code = await exited;

    expect(pid).toBe(String(child.pid));
    expect(code).toBe(0);
    const states = stderr
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .filter((event) => event.msg === 'connector state')
      .map((event) => event.state);
    expect(states).toEqual(['starting', 'running', 'draining', 'stopped']);
    expect(stderr).not.toContain('never-logged');
    expect(existsSync(pidPath)).toBe(false);
    expect(existsSync(path.join(dir, 'site-a', 'archive.db'))).toBe(true);
  });

  it('exits 1 with the problem named when the config is invalid', async () => {
    const configPath = path.join(dir, 'bad.json');
    writeFileSync(configPath, JSON.stringify({ siteId: 'site-a', dataDir: '.', surprise: 1 }));
    const child = spawn(process.execPath, ['--import', TSX, MAIN, '--config', configPath], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });

    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));

    expect(code).toBe(1);
    expect(stderr).toContain('invalid config');
  });
});
