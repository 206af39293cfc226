import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin.js', import.meta.url));
let dir = '';

afterAll(() => rm(dir, { recursive: true, force: true }));

function waitForLine(stream: NodeJS.ReadableStream, pattern: RegExp): Promise<string> {
  return new Promise((resolve) => {
    let seen = '';
    stream.on('data', (data: Buffer) => {
      seen += data.toString();
      const match = pattern.exec(seen);
      if (match) resolve(match[0]);
    });
  });
}

describe('winfleet sim', () => {
  it('writes the fleet CSV, serves WinRM on each address and stops on SIGTERM', async () => {
    dir = await mkdtemp(join(tmpdir(), 'winfleet-sim-'));
    const csvPath = join(dir, 'fleet.csv');
    const child = spawn(process.execPath, [
      BIN,
      'sim',
      '--devices',
      '3',
      '--subnet',
      '127.11.5.0/24',
      '--site-id',
      'site-beta',
      '--user',
      'admin',
      '--password',
      'secret',
      '--fleet-out',
      csvPath,
    ]);
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));

    const announced = await waitForLine(child.stdout, /fleet written to .*\n/);
    const csv = await readFile(csvPath, 'utf8');
    const answer = await fetch('http://127.11.5.3:5985/wsman', { method: 'POST' });
    child.kill('SIGTERM');

    expect(announced).toContain(csvPath);
    expect(csv).toBe(
      'computerName,address,siteId\nWS-0001,127.11.5.1,site-beta\nWS-0002,127.11.5.2,site-beta\nWS-0003,127.11.5.3,site-beta\n',
    );
    expect(answer.status).toBe(401);
    expect(await exited).toBe(0);
  });

  it('rejects an invalid flag with a message and a non-zero exit', async () => {
    const child = spawn(process.execPath, [BIN, 'sim', '--devices', '3', '--subnet', '10.0.0.0/8']);
    const stderr = waitForLine(child.stderr, /winfleet sim: .*/);
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));

    expect(await stderr).toContain('loopback subnet');
    expect(await exited).not.toBe(0);
  });
});
