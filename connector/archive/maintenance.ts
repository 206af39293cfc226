import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from '../../shared/logger.ts';
import { Archive } from './archive.ts';

export interface ArchiveMaintenanceOptions {
  logger: Logger;
  /**
   * Delivered results and metric points older than this many days move to the monthly cold
   * files beside the archive (`cold.ts`). Default 30.
   */
  retentionDays?: number;
  /** Time between the end of one pass and the start of the next. Default 1 hour. */
  intervalMs?: number;
  /** Results, and metric points, moved per transaction. Default 1000. */
  moveStepRows?: number;
  /** Free pages returned per incremental vacuum step. Default 256 (1 MiB of 4 KiB pages). */
  vacuumStepPages?: number;
  /** The clock retention reads; injected by tests. */
  now?: () => Date;
}

/** What one maintenance pass did. */
export interface MaintenanceReport {
  archivedResults: number;
  archivedMetrics: number;
  /** The months ('YYYY-MM') whose cold files received rows, oldest first. */
  coldMonths: string[];
  vacuumSteps: number;
  freePagesLeft: number;
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * Keeps the archive bounded without stalling work: moves rows past the retention to monthly
 * cold files (an operator still finds them with `winfleet archive query --include-cold`), then
 * gives the freed pages back with incremental vacuum, each in small synchronous steps with a
 * turn of the event loop between them, so result inserts commit in between. It replaces the seed's
 * weekly full VACUUM, which holds the write lock for as long as it rewrites the whole file.
 */
export class ArchiveMaintenance {
  readonly #archive: Archive;
  readonly #options: Required<Omit<ArchiveMaintenanceOptions, 'logger'>>;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<MaintenanceReport> | undefined;
  #stopped = false;

  constructor(archive: Archive, options: ArchiveMaintenanceOptions) {
    this.#archive = archive;
    this.#logger = options.logger;
    this.#options = {
      retentionDays: options.retentionDays ?? 30,
      intervalMs: options.intervalMs ?? 3600 * 1000,
      moveStepRows: options.moveStepRows ?? 1000,
      vacuumStepPages: options.vacuumStepPages ?? 256,
      now: options.now ?? (() => new Date()),
    };
  }

  /** Runs a pass now and then every `intervalMs` until `stop`. */
  start(): void {
    this.#schedule(0);
  }

  /** Stops scheduling and waits for a pass in progress to end its current step. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running?.catch(() => undefined);
  }

  /** One pass: retention (to the cold files), then incremental vacuum, in steps. */
  runOnce(): Promise<MaintenanceReport> {
    this.#running ??= this.#pass().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.runOnce()
        .catch((error: unknown) => this.#logger.error({ err: error }, 'archive maintenance failed'))
        .finally(() => this.#schedule(this.#options.intervalMs));
    }, delayMs);
    this.#timer.unref();
  }

  async #pass(): Promise<MaintenanceReport> {
    const { retentionDays, vacuumStepPages, now } = this.#options;
    const before = new Date(now().getTime() - retentionDays * DAY_MS);
    const report: MaintenanceReport = {
      archivedResults: 0,
      archivedMetrics: 0,
      coldMonths: [],
      vacuumSteps: 0,
      freePagesLeft: 0,
    };
    await this.#moveExpired(before, report);

    report.freePagesLeft = this.#archive.freePages();
    while (report.freePagesLeft > 0 && !this.#stopped) {
      await yieldToEventLoop();
      report.freePagesLeft = this.#archive.vacuumStep(vacuumStepPages);
      report.vacuumSteps += 1;
    }
    this.#logger.info({ ...report, before: before.toISOString() }, 'archive maintenance done');
    return report;
  }

  /** Moves expired rows step by step, one month's cold file at a time, until none is left. */
  async #moveExpired(before: Date, report: MaintenanceReport): Promise<void> {
    while (!this.#stopped) {
      const step = this.#archive.moveExpired(before, this.#options.moveStepRows);
      // Zero moved with a month found would mean an instant outside its month's window.
      if (step.month === undefined || step.results + step.metrics === 0) return;
      report.archivedResults += step.results;
      report.archivedMetrics += step.metrics;
      if (!report.coldMonths.includes(step.month)) report.coldMonths.push(step.month);
      await yieldToEventLoop();
    }
  }
}

/** A running maintenance schedule on its own connection to the archive. */
export interface RunningMaintenance {
  stop(): Promise<void>;
}

/**
 * Opens a second connection to the site's archive and runs maintenance on it every hour.
 * Its own connection keeps it out of the service's way: both live on one thread, so their
 * transactions take turns and never wait on each other's lock.
 */
export function startArchiveMaintenance(
  site: { archivePath: string; archiveRetentionDays: number },
  logger: Logger,
): RunningMaintenance {
  const archive = new Archive(site.archivePath);
  const maintenance = new ArchiveMaintenance(archive, {
    logger,
    retentionDays: site.archiveRetentionDays,
  });
  maintenance.start();
  return {
    async stop() {
      await maintenance.stop();
      archive.close();
    },
  };
}
