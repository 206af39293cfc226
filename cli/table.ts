export interface TableOptions {
  /** Columns (by index) aligned to the right, such as counts. */
  rightAligned?: readonly number[];
  /** Longest cell, in characters; longer ones end with an ellipsis. Default 60. */
  maxCellChars?: number;
}

/** Rows as an aligned text table under a header, columns two spaces apart. */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly unknown[])[],
  options: TableOptions = {},
): string {
  const maxChars = options.maxCellChars ?? 60;
  const cells = [header, ...rows].map((row) => header.map((_, i) => cellText(row[i], maxChars)));
  const widths = header.map((_, i) => Math.max(...cells.map((row) => row[i]?.length ?? 0)));
  const right = new Set(options.rightAligned ?? []);
  return cells
    .map((row) =>
      row
        .map((cell, i) =>
          right.has(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function cellText(value: unknown, maxChars: number): string {
  if (value === undefined || value === null) return '';
  const text = String(value).replace(/\s+/g, ' ').trim();
  return text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text;
}
