import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { ArchiveError } from '../errors.ts';
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
}

/**
 * Reads a site's archive for an operator, read-only, so it can run while the connector writes
 * (WAL lets readers and one writer work at once). Each filter maps to an index: operation to
 * the primary key, device to `results_by_device`, since to `results_by_finished`.
 */
export function queryArchive(file: string, query: ResultQuery): ArchivedResult[] {
  if (!existsSync(file)) throw new ArchiveError(`no archive at ${file}`);
  const { sql, params } = buildQuery(query);
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
