import type { Database } from 'better-sqlite3';

/**
 * The archive's tables, one migration per `user_version`. `results` keeps every device's
 * final result; a row whose `delivered_at` is null is in the outbox.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE results (
     operation_id TEXT NOT NULL,
     device_id TEXT NOT NULL,
     site_id TEXT NOT NULL,
     batch_id TEXT NOT NULL,
     status TEXT NOT NULL,
     exit_code INTEGER,
     stdout TEXT,
     stderr TEXT,
     output TEXT,
     error TEXT,
     cache_age_seconds INTEGER,
     started_at TEXT NOT NULL,
     finished_at TEXT NOT NULL,
     duration_ms INTEGER NOT NULL,
     delivered_at TEXT,
     PRIMARY KEY (operation_id, device_id)
   );
   -- The outbox: results the cloud has not accepted yet, oldest first.
   CREATE INDEX results_outbox ON results (finished_at) WHERE delivered_at IS NULL;
   -- A device's history, newest first (status cache, operator queries).
   CREATE INDEX results_by_device ON results (device_id, finished_at);`,
  // The type of each operation seen, so that a cached answer is found by device and type.
  `CREATE TABLE operations (
     operation_id TEXT PRIMARY KEY,
     type TEXT NOT NULL,
     created_at TEXT NOT NULL
   );`,
  // Retention and operator queries by time; status sweeps' metric points per device.
  `CREATE INDEX results_by_finished ON results (finished_at);
   CREATE TABLE metrics (
     device_id TEXT NOT NULL,
     timestamp TEXT NOT NULL,
     site_id TEXT NOT NULL,
     operation_id TEXT NOT NULL,
     uptime_seconds INTEGER NOT NULL,
     cpu_percent REAL NOT NULL,
     memory_total_bytes INTEGER NOT NULL,
     memory_free_bytes INTEGER NOT NULL,
     disk_free_bytes INTEGER NOT NULL,
     disk_total_bytes INTEGER NOT NULL,
     PRIMARY KEY (device_id, timestamp)
   ) WITHOUT ROWID;
   CREATE INDEX metrics_by_time ON metrics (timestamp);`,
];

/** Brings the database to the newest schema, one transaction per migration. */
export function migrate(db: Database): void {
  const current = db.pragma('user_version', { simple: true });
  const from = typeof current === 'number' ? current : 0;
  MIGRATIONS.slice(from).forEach((sql, index) => {
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${from + index + 1}`);
    })();
  });
}
