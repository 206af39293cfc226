import { type Logger, pino } from 'pino';

export type { Logger } from 'pino';

/** Paths whose values never reach a log line. */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'parameters.script',
  'parameters.arguments',
  '*.parameters.script',
  '*.parameters.arguments',
  'credentials',
  '*.credentials',
];

export interface LoggerOptions {
  level?: string;
  /**
   * A file to append JSON lines to; else `WINFLEET_LOG_FILE`; else stderr (stdout stays free
   * for a command's output).
   */
  file?: string;
}

/** A pino logger writing one JSON event per line, with secrets redacted. */
export function createLogger(name: string, options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? 'info';
  const file = options.file ?? process.env.WINFLEET_LOG_FILE;
  const destination = file
    ? pino.destination({ dest: file, mkdir: true, sync: true })
    : pino.destination(2);
  return pino({ name, level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination);
}
