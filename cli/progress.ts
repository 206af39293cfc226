import { MultiBar, type SingleBar } from 'cli-progress';

/** One site's progress through an operation. */
export interface SiteProgressState {
  siteId: string;
  done: number;
  failed: number;
  /** Devices of the operation at this site; the done count when it is not known. */
  total: number;
}

/** Shows each site's progress as the watch loop learns it. */
export interface ProgressDisplay {
  update(sites: readonly SiteProgressState[]): void;
  stop(): void;
}

/**
 * A live bar per site on a terminal (cli-progress); elsewhere (a pipe, a CI log) one line per
 * site whenever its count changes, so that logs stay readable.
 */
export function createProgressDisplay(stream: NodeJS.WriteStream): ProgressDisplay {
  return stream.isTTY ? new BarDisplay(stream) : new LineDisplay(stream);
}

class BarDisplay implements ProgressDisplay {
  readonly #multi: MultiBar;
  readonly #bars = new Map<string, SingleBar>();

  constructor(stream: NodeJS.WriteStream) {
    this.#multi = new MultiBar({
      stream,
      format: '{site} [{bar}] {value}/{total} failed {failed}',
      barsize: 30,
      hideCursor: true,
      clearOnComplete: false,
      autopadding: true,
    });
  }

  update(sites: readonly SiteProgressState[]): void {
    const width = Math.max(...sites.map((s) => s.siteId.length));
    for (const site of sites) {
      const payload = { site: site.siteId.padEnd(width), failed: site.failed };
      const bar = this.#bars.get(site.siteId);
      if (!bar) {
        this.#bars.set(site.siteId, this.#multi.create(site.total, site.done, payload));
        continue;
      }
      bar.setTotal(site.total);
      bar.update(site.done, payload);
    }
  }

  stop(): void {
    this.#multi.stop();
  }
}

class LineDisplay implements ProgressDisplay {
  readonly #last = new Map<string, string>();

  constructor(private readonly stream: NodeJS.WriteStream) {}

  update(sites: readonly SiteProgressState[]): void {
    for (const site of sites) {
      const line = `${site.siteId} ${site.done}/${site.total} failed ${site.failed}`;
      if (this.#last.get(site.siteId) === line) continue;
      this.#last.set(site.siteId, line);
      this.stream.write(`progress ${line}\n`);
    }
  }

  stop(): void {}
}
