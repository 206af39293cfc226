import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ARCHIVE_BENCH = new URL('./archive-insert.ts', import.meta.url);
const ROWS = 100_000;
const RUNS = 3;
/** The archive writer commits up to this many rows at once (connector/archive/writer.ts). */
const WRITER_ROWS_PER_COMMIT = 5000;

export interface ArchiveCase {
  name: string;
  rowsPerCommit: number;
  /** Best run, rows per second of wall time. */
  rowsPerSecond: number;
  /** Best run, rows per second of this process's CPU time (when the bench reports it). */
  rowsPerCpuSecond?: number;
}

export interface ArchiveFigures {
  rows: number;
  runs: number;
  cases: ArchiveCase[];
  /** The case compared with the target: script rows in the writer's commit size. */
  headline: ArchiveCase;
}

/** Archive insert rates through `bench/archive-insert.ts`'s `measure`; undefined without it. */
export async function archiveFigures(): Promise<ArchiveFigures | undefined> {
  if (!existsSync(fileURLToPath(ARCHIVE_BENCH))) return undefined;
  const bench: typeof import('./archive-insert.ts') = await import(ARCHIVE_BENCH.href);
  const plans: Array<[string, number, typeof bench.scriptResult, string]> = [
    ['script rows, 100 a commit', 100, bench.scriptResult, 'script'],
    ['script rows, 5,000 a commit (writer)', WRITER_ROWS_PER_COMMIT, bench.scriptResult, 'script'],
    ['script rows, one transaction', ROWS, bench.scriptResult, 'script'],
    [
      'status rows + metric points, 5,000 a commit',
      WRITER_ROWS_PER_COMMIT,
      bench.statusResult,
      'status',
    ],
  ];
  const cases = plans.map(([name, rowsPerCommit, make, type]): ArchiveCase => {
    const rates = Array.from({ length: RUNS }, () =>
      asRate(bench.measure(ROWS, rowsPerCommit, make, type)),
    );
    const cpu = rates.map((r) => r.cpu ?? 0);
    return {
      name,
      rowsPerCommit,
      rowsPerSecond: Math.max(...rates.map((r) => r.wall)),
      ...(cpu.some((n) => n > 0) ? { rowsPerCpuSecond: Math.max(...cpu) } : {}),
    };
  });
  const headline = cases[1] ?? cases[0];
  if (!headline) return undefined;
  return { rows: ROWS, runs: RUNS, cases, headline };
}

/** `measure` answered a number at first, then wall and CPU rates: accept both. */
function asRate(rate: number | { wall: number; cpu?: number }): { wall: number; cpu?: number } {
  return typeof rate === 'number' ? { wall: rate } : rate;
}
