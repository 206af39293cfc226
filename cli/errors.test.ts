import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { NS } from '../shared/wsman.ts';
import { runSim } from './commands/sim.ts';
import { describeKnown, reportFailure } from './errors.ts';
import { runCli } from './program.ts';

const BIN = fileURLToPath(new URL('./bin.js', import.meta.url));
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'winfleet-cli-errors-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));
afterEach(() => {
  process.exitCode = undefined;
});

/** Runs the CLI in this process; what it wrote to stderr and the exit code it set. */
async function winfleet(...args: string[]): Promise<{ stderr: string; code: unknown }> {
  const written: string[] = [];
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    written.push(String(chunk));
    return true;
  });
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    await runCli(['node', 'winfleet', ...args]);
  } finally {
    stderr.mockRestore();
    stdout.mockRestore();
  }
  return { stderr: written.join(''), code: process.exitCode };
}

describe('the CLI error handler', () => {
  it('prints a missing script file as one line naming it, with exit code 1', async () => {
    const out = await winfleet('run', 'script', '--all', '--script-file', '/nonexistent.ps1');

    expect(out).toEqual({
      stderr: 'winfleet run: cannot read /nonexistent.ps1: no such file or directory (ENOENT)\n',
      code: 1,
    });
  });

  it('prints a missing CSV of devices import as one line', async () => {
    const out = await winfleet('devices', 'import', '/nonexistent.csv');

    expect(out.stderr).toBe(
      'winfleet devices import: cannot read /nonexistent.csv: no such file or directory (ENOENT)\n',
    );
    expect(out.code).toBe(1);
  });

  it('names the directory wsman decode was given instead of a file', async () => {
    const out = await winfleet('wsman', 'decode', dir);

    expect(out.stderr).toBe(
      `winfleet wsman decode: cannot read ${dir}: illegal operation on a directory (EISDIR)\n`,
    );
  });

  it('says which element of a capture is malformed', async () => {
    const file = join(dir, 'bad-base64.xml');
    await writeFile(
      file,
      `<s:Envelope xmlns:s="${NS.soap}" xmlns:rsp="${NS.shell}"><s:Body><rsp:ReceiveResponse>` +
        '<rsp:Stream Name="stderr">not*base64</rsp:Stream></rsp:ReceiveResponse></s:Body></s:Envelope>',
    );

    const out = await winfleet('wsman', 'decode', file);

    expect(out.stderr).toBe(
      `winfleet wsman decode: cannot decode ${file}: malformed WS-Management response: ` +
        'rsp:Stream Name="stderr" is not valid base64: "not*base64"\n',
    );
    expect(out.code).toBe(1);
  });

  it("includes the cause of an archive error and the sub-command's name", async () => {
    await mkdir(join(dir, 'site-a'));
    await writeFile(join(dir, 'site-a', 'archive.db'), 'not a database'.repeat(100));

    const out = await winfleet('archive', 'query', '--data-dir', dir, '--site', 'site-a');

    expect(out.stderr).toMatch(
      /^winfleet archive query: cannot query the archive .*archive\.db: file is not a database\n$/,
    );
  });

  it('prints the sub-command usage after a bad flag, not the whole help', async () => {
    const out = await winfleet('ops', 'list', '--limit', '500');

    expect(out.stderr).toBe(
      'winfleet ops list: --limit: Too big: expected number to be <=100\n' +
        'usage: winfleet ops list [options] (winfleet ops list --help for more)\n',
    );
  });
});

describe('reportFailure', () => {
  const failing = new Command('winfleet').command('ops').command('list');
  const capture = (env: NodeJS.ProcessEnv) => {
    const lines: string[] = [];
    reportFailure(failing, new RangeError('boom'), {
      env,
      stderr: { write: (text: string) => lines.push(text) > 0 },
    });
    return lines.join('');
  };

  it('prints the stack of an unexpected error only with WINFLEET_DEBUG=1', () => {
    const quiet = capture({});
    const debug = capture({ WINFLEET_DEBUG: '1' });

    expect(quiet).toBe('winfleet ops list: boom (WINFLEET_DEBUG=1 shows the stack)\n');
    expect(debug).toMatch(/^RangeError: boom\n\s+at /);
    expect(debug.trimEnd().split('\n').at(-1)).toBe(
      'winfleet ops list: boom (WINFLEET_DEBUG=1 shows the stack)',
    );
    expect(process.exitCode).toBe(1);
  });
});

describe('winfleet sim --fleet-out', () => {
  it('fails before starting the fleet when the CSV folder does not exist', async () => {
    const flags = {
      devices: 1,
      subnet: '127.11.9.0/24',
      port: 5985,
      latencyMs: 0,
      user: 'u',
      password: 'p',
      fleetOut: '/nonexistent/dir/f.csv',
      namePrefix: 'WS',
    };

    const error = await runSim(flags).catch((e: unknown) => e);

    expect(describeKnown(error)).toBe(
      'cannot write the fleet CSV to /nonexistent/dir/f.csv: cannot stat /nonexistent/dir: ' +
        'no such file or directory (ENOENT)',
    );
    await expect(fetch('http://127.11.9.1:5985/wsman', { method: 'POST' })).rejects.toThrow();
  });
});

describe('commander errors', () => {
  it("print the sub-command's usage hint, not the program's help", async () => {
    const child = spawn(process.execPath, [BIN, 'archive', 'query']);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise((resolve) => child.on('close', resolve));

    expect(code).toBe(1);
    expect(stderr).toBe(
      "winfleet archive query: required option '--site <siteId>' not specified\n" +
        'usage: winfleet archive query [options] (winfleet archive query --help for more)\n',
    );
  });
});
