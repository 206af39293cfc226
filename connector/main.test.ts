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

/** argv: tsx, main.ts, config file, log file. */
const PARENT_SCRIPT = `
const { spawn } = require('node:child_process');
const { openSync } = require('node:fs');
const [tsx, main, config, log] = process.argv.slice(1);
const out = openSync(log, 'a');
const child = spawn(process.execPath, ['--import', tsx, main, '--config', config], {
  stdio: ['ignore', out, out],
});
process.stdout.write(child.pid + '\\n');
setInterval(() => {}, 1000);
`;

/** Whether `pid` is a live process (an exited one waiting to be reaped does not count). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

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

  it('drains and exits when its parent is killed, with WINFLEET_EXIT_WITH_PARENT=1', async () => {
    const configPath = path.join(dir, 'orphan.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        siteId: 'site-a',
        dataDir: 'orphan',
        prefix: cloud.prefix,
        dynamodbEndpoint: cloud.dynamodb.endpoint,
        sqsEndpoint: cloud.sqs.endpoint,
        transport: { type: 'wsman', auth: { type: 'basic', user: 'u' } },
      }),
    );
    const logPath = path.join(dir, 'orphan.log');
    // A stand-in for the supervisor: starts the connector, logs to a file, prints its pid.
    const parent = spawn(process.execPath, ['-e', PARENT_SCRIPT, TSX, MAIN, configPath, logPath], {
      env: { ...process.env, WINFLEET_EXIT_WITH_PARENT: '1', WINFLEET_WINRM_PASSWORD: 'p' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    parent.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const log = () => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : '');

    await eventually(() => log().includes('"state":"running"'), 400);
    const pid = Number(stdout.trim());
    parent.kill('SIGKILL');
    try {
      await eventually(() => !isRunning(pid), 400);
    } finally {
      // A connector that outlived the test would poll the queue forever.
      if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    }

    const events = log()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
    expect(events.map((e) => e.msg)).toContain('parent process gone');
    const states = events.filter((e) => e.msg === 'connector state').map((e) => e.state);
    expect(states).toEqual(['starting', 'running', 'draining', 'stopped']);
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
