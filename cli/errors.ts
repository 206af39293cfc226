import type { Command } from 'commander';
import { z } from 'zod';
import { ConnectorError } from '../connector/errors.ts';
import { WsmanError } from '../connector/wsman/errors.ts';
import { FleetStartError, SubnetError } from '../sim/index.ts';
import { ApiError } from './api-client.ts';
import { ConnectionError } from './connection.ts';

/** Flags that parse but do not make sense together; printed with the command's usage. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A file or value the command was given cannot be used; the cause says why. */
export class InputError extends Error {
  override readonly name = 'InputError';
}

/** Errors whose message (and cause) is all an operator needs: no stack trace. */
const EXPECTED: readonly (abstract new (...args: never[]) => Error)[] = [
  InputError,
  ConnectionError,
  ConnectorError,
  WsmanError,
  SubnetError,
  FleetStartError,
];

/** The name a command is called by, from the program down: `winfleet archive query`. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** The short usage hint printed after a usage error, instead of the whole help. */
export function usageHint(command: Command): string {
  const path = commandPath(command);
  return `usage: ${path} ${command.usage()} (${path} --help for more)`;
}

/**
 * Makes commander's own errors (unknown option, missing argument) of `command` and all its
 * sub-commands read like the action errors: `winfleet <command>: ...`, then the usage hint.
 */
export function configureErrorOutput(command: Command): void {
  const prefix = `${commandPath(command)}: `;
  command.showHelpAfterError(usageHint(command)).configureOutput({
    outputError: (text, write) => write(text.replace(/^error: /, prefix)),
  });
  for (const sub of command.commands) configureErrorOutput(sub);
}

export interface ReportOptions {
  stderr?: Pick<NodeJS.WriteStream, 'write'>;
  env?: NodeJS.ProcessEnv;
}

/**
 * Reports an error that ended `command`'s action: `winfleet <command>: <what went wrong>` on
 * stderr (after the command's usage hint for usage errors), and exit code 1. Unexpected
 * errors print their stack first only when `WINFLEET_DEBUG=1`.
 */
export function reportFailure(command: Command, error: unknown, options: ReportOptions = {}) {
  const { stderr = process.stderr, env = process.env } = options;
  const known = describeKnown(error);
  if (!known && env.WINFLEET_DEBUG === '1' && error instanceof Error && error.stack) {
    stderr.write(`${error.stack}\n`);
  }
  const hint = known ? '' : ' (WINFLEET_DEBUG=1 shows the stack)';
  stderr.write(`${commandPath(command)}: ${known ?? withCauses(error)}${hint}\n`);
  if (error instanceof UsageError || error instanceof z.ZodError) {
    stderr.write(`${usageHint(command)}\n`);
  }
  process.exitCode = 1;
}

/** What went wrong, for errors the CLI expects; undefined for a bug. */
export function describeKnown(error: unknown): string | undefined {
  if (error instanceof ApiError) return apiErrorText(error);
  if (error instanceof z.ZodError) return issuesText(error);
  if (error instanceof UsageError) return error.message;
  if (isSystemError(error)) return systemErrorText(error);
  if (error instanceof TypeError && error.message === 'fetch failed') {
    return withCauses(new Error('cannot reach the API', { cause: error.cause }));
  }
  if (EXPECTED.some((type) => error instanceof type)) return withCauses(error);
  return undefined;
}

/** Zod issues on one line: `--limit: Too big: expected number to be <=100; ...`. */
export function issuesText(error: z.ZodError, flags = false): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String);
      const where = flags && path[0] ? [`--${kebab(path[0])}`, ...path.slice(1)] : path;
      return where.length > 0 ? `${where.join('.')}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The message, then each cause's message it does not already contain. */
function withCauses(error: unknown): string {
  let text = messageOf(error);
  for (let cause = causeOf(error); cause !== undefined; cause = causeOf(cause)) {
    const more = isSystemError(cause) ? systemErrorText(cause, text) : messageOf(cause);
    if (!text.includes(more)) text += `: ${more}`;
  }
  return text;
}

function causeOf(error: unknown): unknown {
  return error instanceof Error ? error.cause : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const RowProblems = z.object({
  rows: z.array(z.object({ line: z.number(), reasons: z.array(z.string()) })),
});

function apiErrorText(error: ApiError): string {
  if (error.details === undefined) return error.message;
  const rows = RowProblems.safeParse(error.details);
  if (!rows.success) return `${error.message}: ${JSON.stringify(error.details)}`;
  const lines = rows.data.rows.map((r) => `  line ${r.line}: ${r.reasons.join('; ')}`);
  return [error.message, ...lines].join('\n');
}

/** A failed file or socket call from node: carries `code`, `syscall` and often `path`. */
interface SystemError extends Error {
  code: string;
  syscall: string;
  path?: string;
}

function isSystemError(error: unknown): error is SystemError {
  if (!(error instanceof Error)) return false;
  const { code, syscall } = error as Partial<SystemError>;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) && typeof syscall === 'string';
}

/**
 * `cannot open /x.ps1: no such file or directory (ENOENT)`, from node's longer message; only
 * `no such file or directory (ENOENT)` when `context` already names the path.
 */
function systemErrorText(error: SystemError, context = ''): string {
  const reason = `${/^E[A-Z]+: ([^,]+)/.exec(error.message)?.[1] ?? error.message} (${error.code})`;
  if (error.path === undefined || mentions(context, error.path)) return reason;
  return `cannot ${error.syscall} ${error.path}: ${reason}`;
}

/** True when `text` names `path` itself, not only a file under it. */
function mentions(text: string, path: string): boolean {
  return text.endsWith(path) || text.includes(`${path}:`) || text.includes(`${path} `);
}
