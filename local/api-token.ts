import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * The API token: the one a previous run of this data folder wrote, so that a saved
 * `WINFLEET_TOKEN` keeps working across restarts, or a new random one.
 */
export function apiToken(path: string): string {
  const previous = existsSync(path) ? readFileSync(path, 'utf8').trim() : '';
  if (/^[A-Za-z0-9_-]{32,}$/.test(previous)) return previous;
  const token = randomBytes(24).toString('base64url');
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  return token;
}
