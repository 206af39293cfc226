import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiToken } from './api-token.ts';

describe('apiToken', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'winfleet-token-'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the token a previous run wrote', () => {
    const path = join(dir, 'api-token');
    const first = apiToken(path);

    expect(apiToken(path)).toBe(first);
    expect(readFileSync(path, 'utf8').trim()).toBe(first);
  });

  it('replaces a token file that holds something too short to be a token', () => {
    const path = join(dir, 'api-token');
    writeFileSync(path, 'abc\n');

    const token = apiToken(path);

    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(readFileSync(path, 'utf8').trim()).toBe(token);
  });
});
