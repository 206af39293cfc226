import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import type { DeviceResult } from '../../shared/schemas/result.ts';
import { ArchiveError } from '../errors.ts';
import { type ArchivedResult, fromRow, toRow } from './rows.ts';
import { migrate } from './schema.ts';

/** Identifies one result: an operation's device. */
export interface ResultKey {
  operationId: string;
  deviceId: string;
}

const COLUMNS = [
  'operation_id',
  'device_id',
  'site_id',
  'batch_id',
  'status',
  'exit_code',
  'stdout',
  'stderr',
  'output',
  'error',
  'cache_age_seconds',
  'started_at',
  'finished_at',
  'duration_ms',
];

/**
 * The connector's local SQLite archive of results (DESIGN.md contract 4). Writes are
 * synchronous transactions; the first final result of an operation's device wins.
 */
export class Archive {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement;
  readonly #markDelivered: Database.Statement;
  readonly #selectFor: Database.Statement;
  readonly #selectOutbox: Database.Statement;
  readonly #countOutbox: Database.Statement;
  readonly #insertOperation: Database.Statement;
  readonly #selectLatestSuccess: Database.Statement;

  constructor(file: string) {
    this.#db = guard('open the archive', () => open(file));
    this.#insert = this.#db.prepare(
      `INSERT INTO results (${COLUMNS.join(', ')})
       VALUES (${COLUMNS.map((c) => `@${c}`).join(', ')})
       ON CONFLICT (operation_id, device_id) DO NOTHING`,
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

  /** Inserts results in one transaction; returns how many were new (not already archived). */
  insertResults(results: readonly DeviceResult[]): number {
    return guard('insert results', () =>
      this.#db.transaction(() => {
        let inserted = 0;
        for (const result of results) inserted += this.#insert.run(toRow(result)).changes;
        return inserted;
      })(),
    );
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
  migrate(db);
  return db;
}

function guard<T>(action: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw new ArchiveError(`cannot ${action}`, { cause: error });
  }
}
