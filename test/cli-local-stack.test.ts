import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type LocalStack, startLocalStack } from '../local/stack.ts';
import { createLogger } from '../shared/logger.ts';

const SITES = 2;
const DEVICES_PER_SITE = 5;
const BIN = join(import.meta.dirname, '..', 'cli', 'bin.js');

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

describe('the winfleet CLI against a local stack', () => {
  let stack: LocalStack;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'winfleet-cli-'));
    stack = await startLocalStack({
      dataDir,
      port: 0,
      sites: SITES,
      devicesPerSite: DEVICES_PER_SITE,
      latencyMs: 0,
      subnetBase: 60,
      schedules: false,
      logger: createLogger('cli-test', { file: join(dataDir, 'logs', 'local.log') }),
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Runs `node cli/bin.js ...` as its own process, with the stack's URL and token in env. */
  async function cli(...args: string[]): Promise<CliRun> {
    const env = {
      ...process.env,
      WINFLEET_API_URL: stack.url,
      WINFLEET_TOKEN: stack.token,
      WINFLEET_CONFIG: join(dataDir, 'no-config.json'),
    };
    try {
      const { stdout, stderr } = await promisify(execFile)('node', [BIN, ...args], { env });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = z
        .object({ code: z.number(), stdout: z.string(), stderr: z.string() })
        .parse(error);
      return failed;
    }
  }

  it('runs status on every device with live progress per site, then prints the summary', async () => {
    const run = await cli('run', 'status', '--all', '--watch', '--poll-ms', '200');

    expect(run.stderr).toMatch(/^progress site-01 5\/5 failed 0$/m);
    expect(run.stderr).toMatch(/^progress site-02 5\/5 failed 0$/m);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^operation op-[0-9a-z]+ started: 10 devices$/);
    expect(lines[1]).toMatch(/^Operation op-[0-9a-z]+ \(status\): Success$/);
    expect(lines).toContainEqual(expect.stringMatching(/^site-01\s+5\s+5\s+0\s+0\s+[\d.]+$/));
    expect(lines).toContainEqual(expect.stringMatching(/^site-02\s+5\s+5\s+0\s+0\s+[\d.]+$/));
    expect(lines.at(-1)).toMatch(/^total\s+10\s+10\s+0\s+0\s+[\d.]+$/);
    expect(run.code).toBe(0);

    const operationId = /operation (op-[0-9a-z]+) started/.exec(run.stdout)?.[1] ?? '';
    const results = await cli('results', operationId, '--json');
    const items = z
      .array(z.object({ deviceId: z.string(), siteId: z.string(), status: z.string() }))
      .parse(JSON.parse(results.stdout));
    expect(items.map((r) => r.deviceId).sort()).toEqual(
      stack.devices.map((d) => d.deviceId).sort(),
    );
    expect(new Set(items.map((r) => r.status))).toEqual(new Set(['Success']));

    const table = await cli('results', operationId, '--status', 'Success');
    expect(table.stdout).toMatch(/^device\s+site\s+status\s+exit\s+ms\s+detail$/m);
    expect(table.stdout).toMatch(/^10 result\(s\)$/m);

    const listed = await cli('ops', 'list');
    expect(listed.stdout).toContain(operationId);
  });

  it('imports devices from a CSV file and refuses a bad one with its line numbers', async () => {
    const good = join(dataDir, 'good.csv');
    const bad = join(dataDir, 'bad.csv');
    writeFileSync(good, 'computerName,address,siteId,tags\nNEW-01,10.9.0.1,site-01,ring=a\n');
    writeFileSync(bad, 'computerName,address,siteId\nNEW-02,10.9.0.2,site-01\nNEW-03,,site-09\n');

    const imported = await cli('devices', 'import', good);
    const refused = await cli('devices', 'import', bad);

    expect(imported.stdout).toBe('imported 1 devices: 1 new, 0 updated\n');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/400 InvalidRows/);
    expect(refused.stderr).toMatch(/^ {2}line 3: address: /m);
  });

  it('applies a sites file and refuses one with an unknown key before calling the API', async () => {
    const sites = join(dataDir, 'sites.json');
    const typo = join(dataDir, 'typo.json');
    writeFileSync(sites, JSON.stringify({ sites: [{ siteId: 'site-03', name: 'Third' }] }));
    writeFileSync(typo, JSON.stringify({ sites: [{ siteId: 'site-04', name: 'x', throtle: 5 }] }));

    const applied = await cli('sites', 'apply', sites);
    const refused = await cli('sites', 'apply', typo);
    const listed = await cli('sites', 'list', '--json');

    expect(applied.stdout).toBe('site site-03 applied\n');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/throtle/);
    expect(listed.stdout).toContain('"siteId":"site-03"');
    expect(listed.stdout).not.toContain('site-04');
  });
});
