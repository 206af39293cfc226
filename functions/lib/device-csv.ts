import { CsvError, parse } from 'csv-parse/sync';
import { z } from 'zod';
import { Device } from '../../shared/schemas/index.ts';
import { BadRequestError, PayloadTooLargeError } from '../errors.ts';

/** Rows per import; a larger fleet is imported in several requests. */
export const MAX_IMPORT_ROWS = 10_000;
/** Bytes per import: well under Lambda's 6 MB synchronous payload, base64 included. */
export const MAX_IMPORT_BYTES = 4 * 1024 * 1024;

/** A row that cannot be imported: the line it ends on and every reason. */
export interface RowProblem {
  line: number;
  reasons: string[];
}

export interface DeviceCsv {
  devices: Device[];
  problems: RowProblem[];
  /** Rows of disabled computer accounts, left out. */
  skipped: number;
}

export interface DeviceCsvOptions {
  /** The site of rows that name none (an AD export has no site column). */
  siteId?: string;
}

/**
 * Column names, matched without regard to case. An Active Directory export
 * (`Get-ADComputer -Properties DNSHostName,IPv4Address | Export-Csv`) has Name, DNSHostName,
 * IPv4Address, SamAccountName (the name with a trailing `$`) and Enabled; our own columns are
 * computerName, address, port, siteId (or site), deviceId, tags (`k=v;k2=v2`) and `tag:KEY`.
 */
const NAME_COLUMNS = ['computername', 'name', 'dnshostname', 'samaccountname'];

const CsvRecord = z.object({
  record: z.array(z.string()),
  info: z.object({ lines: z.number().int() }),
});

/**
 * Reads devices from CSV text, checking every row with the `Device` schema. Rows with problems
 * are reported, not thrown, so that one answer can list them all; a file that is not CSV, has
 * no name column or too many rows throws a 4xx error.
 */
export function parseDeviceCsv(text: string, options: DeviceCsvOptions = {}): DeviceCsv {
  const records = readRecords(text);
  const [header, ...rows] = records;
  if (!header || rows.length === 0) {
    throw new BadRequestError('NoDevices', 'the CSV needs a header line and at least one row');
  }
  if (rows.length > MAX_IMPORT_ROWS) {
    throw new PayloadTooLargeError(
      `the CSV has ${rows.length} rows; at most ${MAX_IMPORT_ROWS} per import`,
    );
  }
  const columns = columnIndex(header.record);
  const result: DeviceCsv = { devices: [], problems: [], skipped: 0 };
  const seen = new Map<string, number>();
  for (const { record, info } of rows) {
    const row = rowReader(columns, record);
    if (row.get('enabled')?.toLowerCase() === 'false') {
      result.skipped += 1;
      continue;
    }
    const { device, reasons } = readDevice(row, options);
    const first = device ? seen.get(device.deviceId) : undefined;
    if (device && first !== undefined)
      reasons.push(`device ${device.deviceId} is also on line ${first}`);
    if (!device || reasons.length > 0) {
      result.problems.push({ line: info.lines, reasons });
      continue;
    }
    seen.set(device.deviceId, info.lines);
    result.devices.push(device);
  }
  return result;
}

function readRecords(text: string): z.infer<typeof CsvRecord>[] {
  // Windows PowerShell 5.1's Export-Csv starts with `#TYPE <class>` unless -NoTypeInformation.
  const typeLine = /^\uFEFF?#TYPE /.test(text);
  try {
    const raw: unknown = parse(text, {
      bom: true,
      info: true,
      skip_empty_lines: true,
      from_line: typeLine ? 2 : 1,
      max_record_size: 64 * 1024,
    });
    return z.array(CsvRecord).parse(raw);
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    throw new BadRequestError('MalformedCsv', `the body is not valid CSV: ${error.message}`, {
      details: { code: error.code, line: error.lines },
      cause: error,
    });
  }
}

interface Column {
  index: number;
  /** As the header spells it. */
  name: string;
}

function columnIndex(header: readonly string[]): Map<string, Column> {
  const columns = new Map<string, Column>();
  header.forEach((name, index) => {
    const key = name.trim().toLowerCase();
    if (columns.has(key)) {
      throw new BadRequestError('DuplicateColumn', `the header names column ${name} twice`);
    }
    columns.set(key, { index, name: name.trim() });
  });
  if (!NAME_COLUMNS.some((name) => columns.has(name))) {
    throw new BadRequestError(
      'MissingColumn',
      'the header needs a computer name column: computerName, Name, DNSHostName or SamAccountName',
      { details: { header } },
    );
  }
  return columns;
}

interface Row {
  /** The value in a column, by lower-case name; empty cells and absent columns read as absent. */
  get(column: string): string | undefined;
  /** The row's `tag:KEY` cells that have a value, with KEY as the header spells it. */
  tagCells(): [string, string][];
}

function rowReader(columns: Map<string, Column>, record: readonly string[]): Row {
  const cell = (column: Column | undefined) => {
    const value = column === undefined ? undefined : record[column.index]?.trim();
    return value ? value : undefined;
  };
  return {
    get: (name) => cell(columns.get(name)),
    tagCells: () =>
      [...columns.entries()].flatMap(([key, column]): [string, string][] => {
        const value = cell(column);
        return key.startsWith('tag:') && value ? [[column.name.slice('tag:'.length), value]] : [];
      }),
  };
}

/** The device a row describes, or the reasons it describes none. */
function readDevice(row: Row, options: DeviceCsvOptions): { device?: Device; reasons: string[] } {
  const computerName =
    row.get('computername') ??
    row.get('name') ??
    row.get('dnshostname')?.split('.')[0] ??
    row.get('samaccountname')?.replace(/\$$/, '');
  const port = row.get('port');
  const tags = tagsOf(row);
  const parsed = Device.safeParse({
    deviceId: row.get('deviceid') ?? computerName?.toLowerCase(),
    computerName,
    address: row.get('address') ?? row.get('dnshostname') ?? row.get('ipv4address'),
    port: port === undefined ? undefined : Number(port),
    siteId: row.get('siteid') ?? row.get('site') ?? options.siteId,
    tags: tags.tags,
  });
  const reasons = [...tags.reasons, ...(parsed.error?.issues.map(reason) ?? [])];
  return { device: parsed.data, reasons };
}

/** Tags from a `tags` cell (`k=v;k2=v2`) and from `tag:KEY` columns. */
function tagsOf(row: Row): { tags: Record<string, string>; reasons: string[] } {
  const tags: Record<string, string> = {};
  const reasons: string[] = [];
  for (const pair of row.get('tags')?.split(';') ?? []) {
    const eq = pair.indexOf('=');
    if (eq > 0) tags[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
    else if (pair.trim()) reasons.push(`tags: "${pair.trim()}" is not key=value`);
  }
  for (const [key, value] of row.tagCells()) tags[key] = value;
  return { tags, reasons };
}

function reason(issue: z.core.$ZodIssue): string {
  const field = issue.path.map(String).join('.');
  return field ? `${field}: ${issue.message}` : issue.message;
}
