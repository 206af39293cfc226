import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { ArchiveError } from '../errors.ts';
import { coldArchiveFiles, monthBounds } from './cold.ts';
import { type ArchivedResult, fromRow } from './rows.ts';

/** What an operator asks of a site's archive; every field narrows the answer. */
export interface ResultQuery {
  siteId?: string;
  operationId?: string;
  deviceId?: string;
  status?: string;
  /** Results that finished at or after this instant. */
  since?: Date;
  /** Newest first, at most this many. Default 100. */
  limit?: number;
  /** Also search the monthly cold files that rows past the retention moved to. */
  includeCold?: boolean;
}

/**
 * Reads a site's archive for an operator, read-only, so it can run while the connector writes
 * (WAL lets readers and one writer work at once). Each filter maps to an index: operation to
 * the primary key, device to `results_by_device`, since to `results_by_finished`.
 *
 * With `includeCold`, the cold files beside it (those whose month is not wholly before
 * `since`) answer the same query and the answers merge, newest first. Each cold file is opened
 * read-only on its own connection rather than ATTACHed: SQLite attaches at most 10 files to a
 * connection, fewer than a few years of months.
 */
export function queryArchive(file: string, query: ResultQuery): ArchivedResult[] {
  if (!existsSync(file)) throw new ArchiveError(`no archive at ${file}`);
  const { sql, params } = buildQuery(query);
  const files = [file, ...(query.includeCold ? coldFilesFor(file, query.since) : [])];
  const found = files.flatMap((each) => queryFile(each, sql, params));
  if (files.length === 1) return found;
  const newestFirst = found.sort((a, b) => b.result.finishedAt.localeCompare(a.result.finishedAt));
  return newestFirst.slice(0, query.limit ?? 100);
}

/** The cold files beside `file` that may hold results finished at or after `since`. */
function coldFilesFor(file: string, since: Date | undefined): string[] {
  const sinceIso = since?.toISOString() ?? '';
  return coldArchiveFiles(file)
    .filter(({ month }) => monthBounds(month).endIso > sinceIso)
    .map((cold) => cold.file);
}

function queryFile(file: string, sql: string, params: unknown[]): ArchivedResult[] {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    return db
      .prepare(sql)
      .all(...params)
      .map(fromRow);
  } catch (error) {
    throw new ArchiveError(`cannot query the archive ${file}`, { cause: error });
  } finally {
    db?.close();
  }
}

/** The SELECT for a query, with positional parameters. */
export function buildQuery(query: ResultQuery): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const filters: [string, unknown][] = [
    ['site_id = ?', query.siteId],
    ['operation_id = ?', query.operationId],
    ['device_id = ?', query.deviceId],
    ['status = ?', query.status],
    ['finished_at >= ?', query.since?.toISOString()],
  ];
  for (const [clause, value] of filters) {
    if (value === undefined) continue;
    where.push(clause);
    params.push(value);
  }
  params.push(query.limit ?? 100);
  const condition = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  return {
    sql: `SELECT * FROM results ${condition} ORDER BY finished_at DESC LIMIT ?`,
    params,
  };
}
