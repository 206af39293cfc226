import { readdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './schema.ts';

/**
 * Cold archive files: rows past the retention leave the live archive for
 * `archive-<YYYY>-<MM>.db` beside it, one file per month in which they finished (results) or
 * were measured (metric points). A cold file has the live archive's schema, so the operator's
 * queries run on it unchanged.
 */
const COLD_FILE = /^archive-(\d{4}-\d{2})\.db$/;

/** A cold file and the month ('YYYY-MM') it holds. */
export interface ColdArchiveFile {
  month: string;
  file: string;
}

/** The cold file for `month` ('YYYY-MM') beside the live archive `liveFile`. */
export function coldArchivePath(liveFile: string, month: string): string {
  return path.join(path.dirname(liveFile), `archive-${month}.db`);
}

/** The cold files beside the live archive `liveFile`, oldest month first. */
export function coldArchiveFiles(liveFile: string): ColdArchiveFile[] {
  const dir = path.dirname(liveFile);
  const names = readdirSync(dir).sort();
  return names.flatMap((name) => {
    const month = COLD_FILE.exec(name)?.[1];
    return month === undefined ? [] : [{ month, file: path.join(dir, name) }];
  });
}

/** The month ('YYYY-MM') of an ISO 8601 UTC instant. */
export function monthOf(iso: string): string {
  return iso.slice(0, 7);
}

/** The first instant of `month` and of the month after it, as ISO 8601 UTC strings. */
export function monthBounds(month: string): { startIso: string; endIso: string } {
  const [year = 0, monthNumber = 1] = month.split('-').map(Number);
  return {
    startIso: new Date(Date.UTC(year, monthNumber - 1, 1)).toISOString(),
    endIso: new Date(Date.UTC(year, monthNumber, 1)).toISOString(),
  };
}

/** Creates the cold file, or brings an existing one to the live archive's schema. */
export function prepareColdArchive(file: string): void {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    migrate(db);
  } finally {
    db.close();
  }
}
