import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalStackError } from './errors.ts';
import { lockDataDir } from './stack-lock.ts';

describe('lockDataDir', () => {
  let dir: string;
  let pidPath: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'winfleet-lock-'));
    pidPath = join(dir, 'stack.pid');
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a folder that a running stack holds, naming its pid', () => {
    const release = lockDataDir(pidPath, dir);

    expect(() => lockDataDir(pidPath, dir)).toThrow(LocalStackError);
    expect(() => lockDataDir(pidPath, dir)).toThrow(`(pid ${process.pid})`);
    release();
  });

  it('takes over the pid file of a stack that died', () => {
    const exited = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    writeFileSync(pidPath, `${exited.stdout.toString()}\n`);

    const release = lockDataDir(pidPath, dir);

    expect(readFileSync(pidPath, 'utf8').trim()).toBe(String(process.pid));
    release();
  });

  it('removes its pid file when released', () => {
    const release = lockDataDir(pidPath, dir);

    release();

    expect(existsSync(pidPath)).toBe(false);
  });
});
