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
  /** A file to append JSON lines to; stderr when absent (stdout stays free for output). */
  file?: string;
}

/** A pino logger writing one JSON event per line, with secrets redacted. */
export function createLogger(name: string, options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? 'info';
  const destination = options.file
    ? pino.destination({ dest: options.file, mkdir: true, sync: false })
    : pino.destination(2);
  return pino({ name, level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination);
}
