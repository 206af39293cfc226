import type { DeviceResult } from '../../shared/schemas/result.ts';
import type { Archive } from './archive.ts';

export interface ArchiveWriterOptions {
  /**
   * Rows per transaction at most. Default 5000: one transaction of many rows inserts about
   * three times faster than commits of 100 (`bench/archive-insert.ts`).
   */
  maxRows?: number;
  /** How long a row may wait for others before its transaction commits. Default 20 ms. */
  flushIntervalMs?: number;
}

interface Pending {
  result: DeviceResult;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Groups results finishing close together into one archive transaction, flushed by count or
 * after `flushIntervalMs`, with each status answer's metric point. `write` resolves
 * once the row is committed, so a caller knows its result is durable.
 */
export class ArchiveWriter {
  readonly #archive: Archive;
  readonly #maxRows: number;
  readonly #flushIntervalMs: number;
  #pending: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(archive: Archive, options: ArchiveWriterOptions = {}) {
    this.#archive = archive;
    this.#maxRows = options.maxRows ?? 5000;
    this.#flushIntervalMs = options.flushIntervalMs ?? 20;
  }

  write(result: DeviceResult): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ result, resolve, reject });
      if (this.#pending.length >= this.#maxRows) this.flush();
      else this.#timer ??= setTimeout(() => this.flush(), this.#flushIntervalMs);
    });
  }

  /** Commits every pending row now. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return;
    try {
      this.#archive.insertResults(batch.map((p) => p.result));
      for (const p of batch) p.resolve();
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }
}
