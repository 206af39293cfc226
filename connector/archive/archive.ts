import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import type { DeviceResult } from '../../shared/schemas/result.ts';
import { ArchiveError } from '../errors.ts';
import { coldArchivePath, monthBounds, monthOf, prepareColdArchive } from './cold.ts';
import {
  type ArchivedResult,
  fromRow,
  INSERT_COLUMNS,
  METRIC_COLUMNS,
  toMetricValues,
  toValues,
} from './rows.ts';
import { migrate } from './schema.ts';

/** Identifies one result: an operation's device. */
export interface ResultKey {
  operationId: string;
  deviceId: string;
}

/** What one retention step moved to a cold file. */
export interface ExpiredRows {
  /** The month ('YYYY-MM') whose cold file received the rows; undefined when none expired. */
  month: string | undefined;
  results: number;
  metrics: number;
}

/**
 * How a table's expired rows move to a cold file: which columns, the rows of a time window
 * (start, end, limit) in a total order, so that the copy and the delete of a step select the
 * same rows, and the key the delete matches them by.
 */
interface ColdTable {
  name: 'results' | 'metrics';
  columns: string;
  window: string;
  key: string;
}

// Only delivered results expire: the outbox keeps a result until the cloud has it.
const COLD_RESULTS: ColdTable = {
  name: 'results',
  columns: [...INSERT_COLUMNS, 'delivered_at'].join(', '),
  window: `finished_at >= ? AND finished_at < ? AND delivered_at IS NOT NULL
    ORDER BY finished_at, rowid LIMIT ?`,
  key: 'rowid',
};

const COLD_METRICS: ColdTable = {
  name: 'metrics',
  columns: METRIC_COLUMNS.join(', '),
  window: 'timestamp >= ? AND timestamp < ? ORDER BY timestamp, device_id LIMIT ?',
  key: 'device_id, timestamp',
};

/**
 * The connector's local SQLite archive of results and status metric points (DESIGN.md
 * contract 4). Writes are synchronous transactions; the first final result of an operation's
 * device wins. Rows past the retention move to monthly cold files beside it (`moveExpired`,
 * see `cold.ts`); freed pages are returned with incremental vacuum (`vacuumStep`), never with a
 * full VACUUM that would hold the write lock for the whole file.
 */
export class Archive {
  readonly #file: string;
  readonly #db: Database.Database;
  readonly #coldReady = new Set<string>();
  readonly #insert: Database.Statement;
  readonly #insertMetric: Database.Statement;
  readonly #oldestExpiredResult: Database.Statement;
  readonly #oldestExpiredMetric: Database.Statement;
  readonly #deleteOperations: Database.Statement;
  readonly #markDelivered: Database.Statement;
  readonly #selectFor: Database.Statement;
  readonly #selectOutbox: Database.Statement;
  readonly #countOutbox: Database.Statement;
  readonly #insertOperation: Database.Statement;
  readonly #selectLatestSuccess: Database.Statement;

  constructor(file: string) {
    this.#file = file;
    this.#db = guard('open the archive', () => open(file));
    this.#insert = this.#db.prepare(
      `INSERT INTO results (${INSERT_COLUMNS.join(', ')})
       VALUES (${INSERT_COLUMNS.map(() => '?').join(', ')})
       ON CONFLICT (operation_id, device_id) DO NOTHING`,
    );
    // Only a status operation's answers are metric points (a script may print the same shape).
    this.#insertMetric = this.#db.prepare(
      `INSERT INTO metrics (${METRIC_COLUMNS.join(', ')})
       SELECT ${METRIC_COLUMNS.map(() => '?').join(', ')}
       WHERE EXISTS (SELECT 1 FROM operations WHERE operation_id = ? AND type = 'status')
       ON CONFLICT DO NOTHING`,
    );
    this.#oldestExpiredResult = this.#db
      .prepare(
        `SELECT finished_at FROM results WHERE finished_at < ? AND delivered_at IS NOT NULL
         ORDER BY finished_at LIMIT 1`,
      )
      .pluck();
    this.#oldestExpiredMetric = this.#db
      .prepare('SELECT min(timestamp) FROM metrics WHERE timestamp < ?')
      .pluck();
    this.#deleteOperations = this.#db.prepare(
      `DELETE FROM operations WHERE created_at < ? AND NOT EXISTS (
         SELECT 1 FROM results WHERE results.operation_id = operations.operation_id)`,
    );
    this.#markDelivered = this.#db.prepare(
      `UPDATE results SET delivered_at = ?
       WHERE operation_id = ? AND device_id = ? AND delivered_at IS NULL`,
    );
    this.#selectFor = this.#db.prepare(
      `SELECT * FROM results
       WHERE operation_id = ? AND device_id IN (SELECT value FROM json_each(?))`,
    );
    this.#selectOutbox = this.#db.prepare(
      'SELECT * FROM results WHERE delivered_at IS NULL ORDER BY finished_at LIMIT ?',
    );
    this.#countOutbox = this.#db.prepare(
      'SELECT count(*) AS n FROM results WHERE delivered_at IS NULL',
    );
    this.#insertOperation = this.#db.prepare(
      'INSERT INTO operations (operation_id, type, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
    );
    this.#selectLatestSuccess = this.#db.prepare(
      `SELECT results.* FROM results JOIN operations USING (operation_id)
       WHERE results.device_id = ? AND results.finished_at >= ?
         AND results.status = 'Success' AND operations.type = ?
       ORDER BY results.finished_at DESC LIMIT 1`,
    );
  }

  /** Remembers an operation's type; results of operations never recorded are never cached. */
  recordOperation(operationId: string, type: string, createdAt: string): void {
    guard('record an operation', () => this.#insertOperation.run(operationId, type, createdAt));
  }

  /** The newest Success of a `type` operation on a device that finished at or after `since`. */
  latestSuccess(deviceId: string, type: string, since: Date): ArchivedResult | undefined {
    const row = guard('read the latest result', () =>
      this.#selectLatestSuccess.get(deviceId, since.toISOString(), type),
    );
    return row === undefined ? undefined : fromRow(row);
  }

  /**
   * Inserts results, and the metric point of each fresh status answer, in one transaction;
   * returns how many results were new (not already archived).
   */
  insertResults(results: readonly DeviceResult[]): number {
    return guard('insert results', () =>
      this.#db.transaction(() => {
        let inserted = 0;
        for (const result of results) {
          const changes = this.#insert.run(toValues(result)).changes;
          inserted += changes;
          const point = changes > 0 ? toMetricValues(result) : undefined;
          if (point) this.#insertMetric.run(...point, result.operationId);
        }
        return inserted;
      })(),
    );
  }

  /**
   * Moves at most `limit` delivered results and `limit` metric points older than `before`, all
   * of the oldest such month, to that month's cold file, and forgets operations left without
   * results, in one short transaction. Call it again until it moves nothing: small steps let
   * other writes in between. The cold file is attached only for the step.
   *
   * A transaction over two WAL files is atomic per file, not across both: a crash between the
   * two commits leaves rows in both files, and the next step's INSERT OR IGNORE skips them
   * before deleting them here, so a rerun never duplicates a row.
   */
  moveExpired(before: Date, limit: number): ExpiredRows {
    const beforeIso = before.toISOString();
    const month = this.#oldestExpiredMonth(beforeIso);
    if (month === undefined) return { month, results: 0, metrics: 0 };
    const { startIso, endIso } = monthBounds(month);
    const windowEnd = new Date(Math.min(Date.parse(endIso), before.getTime())).toISOString();
    const window = [startIso, windowEnd, limit];
    const cold = coldArchivePath(this.#file, month);
    guard(`prepare the cold archive ${cold}`, () => this.#prepareCold(cold));
    return guard(`move expired rows to ${cold}`, () =>
      this.#withCold(cold, () => {
        const results = this.#moveRows(COLD_RESULTS, window);
        const metrics = this.#moveRows(COLD_METRICS, window);
        this.#deleteOperations.run(beforeIso);
        return { month, results, metrics };
      }),
    );
  }

  #oldestExpiredMonth(beforeIso: string): string | undefined {
    const instants = guard('find expired rows', () => [
      this.#oldestExpiredResult.get(beforeIso),
      this.#oldestExpiredMetric.get(beforeIso),
    ]).filter((value): value is string => typeof value === 'string');
    const oldest = instants.sort()[0];
    return oldest === undefined ? undefined : monthOf(oldest);
  }

  #prepareCold(file: string): void {
    if (this.#coldReady.has(file)) return;
    prepareColdArchive(file);
    this.#coldReady.add(file);
  }

  /** Runs `fn` in one transaction with `file` attached as `cold`. */
  #withCold<T>(file: string, fn: () => T): T {
    this.#db.prepare('ATTACH DATABASE ? AS cold').run(file);
    try {
      return this.#db.transaction(fn)();
    } finally {
      this.#db.exec('DETACH DATABASE cold');
    }
  }

  /** Copies a window of rows to `cold` (skipping any already there), then deletes them here. */
  #moveRows({ name, columns, window, key }: ColdTable, params: unknown[]): number {
    this.#db
      .prepare(
        `INSERT OR IGNORE INTO cold.${name} (${columns})
         SELECT ${columns} FROM main.${name} WHERE ${window}`,
      )
      .run(...params);
    return this.#db
      .prepare(
        `DELETE FROM main.${name} WHERE (${key}) IN (
           SELECT ${key} FROM main.${name} WHERE ${window})`,
      )
      .run(...params).changes;
  }

  /** Returns at most `pages` free pages to the file system; returns the free pages left. */
  vacuumStep(pages: number): number {
    return guard('vacuum the archive', () => {
      this.#db.pragma(`incremental_vacuum(${Math.max(1, Math.floor(pages))})`);
      return this.freePages();
    });
  }

  /** Pages on the free list: space that deleted rows left inside the file. */
  freePages(): number {
    const count = guard('read the free list', () =>
      this.#db.pragma('freelist_count', { simple: true }),
    );
    return typeof count === 'number' ? count : 0;
  }

  /** The archived results among `deviceIds` for an operation (for a redelivered batch). */
  finalResultsFor(operationId: string, deviceIds: readonly string[]): ArchivedResult[] {
    const rows = guard('read results', () =>
      this.#selectFor.all(operationId, JSON.stringify(deviceIds)),
    );
    return rows.map(fromRow);
  }

  /** Records that the cloud accepted these results; they leave the outbox. */
  markDelivered(keys: readonly ResultKey[], at: Date = new Date()): void {
    const iso = at.toISOString();
    guard('mark results delivered', () =>
      this.#db.transaction(() => {
        for (const key of keys) this.#markDelivered.run(iso, key.operationId, key.deviceId);
      })(),
    );
  }

  /** Results not yet delivered to the cloud, oldest first. */
  outbox(limit = 100): ArchivedResult[] {
    return guard('read the outbox', () => this.#selectOutbox.all(limit)).map(fromRow);
  }

  /** How many results wait in the outbox. */
  outboxSize(): number {
    const row = guard('count the outbox', () => this.#countOutbox.get());
    return z.object({ n: z.number() }).parse(row).n;
  }

  close(): void {
    this.#db.close();
  }
}

function open(file: string): Database.Database {
  mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // With WAL, NORMAL loses no committed transaction on a process crash, only on power loss.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  useIncrementalVacuum(db);
  migrate(db);
  return db;
}

/** Incremental auto-vacuum (2); it applies to a new file at once, an older one needs a VACUUM. */
function useIncrementalVacuum(db: Database.Database): void {
  if (db.pragma('auto_vacuum', { simple: true }) === 2) return;
  const pages = db.pragma('page_count', { simple: true });
  db.pragma('auto_vacuum = INCREMENTAL');
  // A one-time conversion at open, before the connector takes any work.
  if (typeof pages === 'number' && pages > 0) db.exec('VACUUM');
}

function guard<T>(action: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw new ArchiveError(`cannot ${action}`, { cause: error });
  }
}
