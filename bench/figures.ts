/** One line of the closing table: a measured figure against its target, when it has one. */
export interface FigureRow {
  figure: string;
  value: string;
  target?: string;
  /** value / target, oriented so that 1 or more meets the target. */
  ratio?: number;
}

/** The rows as an aligned text table with a verdict column. */
export function formatTable(rows: FigureRow[]): string {
  const header = ['figure', 'value', 'target', 'ratio', 'met'];
  const cells = rows.map((r) => [
    r.figure,
    r.value,
    r.target ?? '',
    r.ratio === undefined ? '' : r.ratio.toFixed(2),
    r.ratio === undefined ? '' : r.ratio >= 1 ? 'yes' : 'NO',
  ]);
  const table = [header, ...cells];
  const widths = header.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length)));
  return table
    .map((row) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  '))
    .join('\n');
}

export function sumCounts(counts: Record<string, number>): number {
  return Object.values(counts).reduce((total, n) => total + n, 0);
}

/** Adds two count records key by key. */
export function addCounts(
  a: Record<string, number>,
  b: Record<string, number>,
): Record<string, number> {
  const total = { ...a };
  for (const [key, n] of Object.entries(b)) total[key] = (total[key] ?? 0) + n;
  return total;
}

export function fixed(value: number, digits = 2): string {
  return value.toFixed(digits);
}
