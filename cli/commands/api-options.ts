import type { Command } from 'commander';
import { z } from 'zod';
import { ApiClient, ApiError } from '../api-client.ts';
import { type Connection, ConnectionError, resolveConnection } from '../connection.ts';
import { sigV4Authorizer } from '../sigv4.ts';

/** Adds the options that say where the API is and how to authenticate to it. */
export function withConnectionOptions(command: Command): Command {
  return command
    .option('--api-url <url>', 'API base URL (env WINFLEET_API_URL)')
    .option('--token <token>', 'bearer token of the local stack (env WINFLEET_TOKEN)')
    .option('--profile <name>', 'profile of ~/.config/winfleet/config.json (env WINFLEET_PROFILE)')
    .option('--aws', 'sign requests with SigV4 using the AWS default credential chain')
    .option('--region <region>', 'AWS region for --aws (default from the URL or AWS_REGION)');
}

const CONNECTION_KEYS = ['apiUrl', 'token', 'profile', 'aws', 'region'] as const;

/** A client for the API the command's connection options (or env, profile, local stack) name. */
export async function clientFrom(options: Record<string, unknown>): Promise<ApiClient> {
  const flags = Object.fromEntries(
    CONNECTION_KEYS.filter((key) => options[key] !== undefined).map((key) => [key, options[key]]),
  );
  return clientFor(resolveConnection(flags));
}

async function clientFor(connection: Connection): Promise<ApiClient> {
  if (connection.kind === 'token') return new ApiClient(connection.apiUrl, connection.token);
  // Loaded only for --aws: the credential chain pulls in much of the SDK.
  const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
  const credentials = fromNodeProviderChain({ profile: connection.awsProfile });
  return new ApiClient(
    connection.apiUrl,
    sigV4Authorizer({ region: connection.region, credentials }),
  );
}

/**
 * Wraps a command's action so that an API refusal, a bad setting or bad flags end the
 * process with exit code 1 and a message on stderr instead of a stack trace.
 */
export function reportErrors<A extends unknown[]>(action: (...args: A) => Promise<void>) {
  return async (...args: A): Promise<void> => {
    try {
      await action(...args);
    } catch (error) {
      process.stderr.write(`winfleet: ${describe(error)}\n`);
      process.exitCode = 1;
    }
  };
}

function describe(error: unknown): string {
  if (error instanceof ApiError) {
    const details = error.details === undefined ? '' : `\n${detailText(error.details)}`;
    return `${error.message}${details}`;
  }
  if (error instanceof z.ZodError) return z.prettifyError(error);
  if (error instanceof ConnectionError || error instanceof UsageError) return error.message;
  if (error instanceof TypeError && error.message === 'fetch failed') {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `cannot reach the API${cause}`;
  }
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

const RowProblems = z.object({
  rows: z.array(z.object({ line: z.number(), reasons: z.array(z.string()) })),
});

function detailText(details: unknown): string {
  const rows = RowProblems.safeParse(details);
  if (rows.success) {
    return rows.data.rows.map((r) => `  line ${r.line}: ${r.reasons.join('; ')}`).join('\n');
  }
  return JSON.stringify(details, null, 2);
}

/** Flags that parse but do not make sense together. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Parses a command's own flags (the connection options left out) with zod, or throws the
 * error `reportErrors` prints.
 */
export function parseFlags<S extends z.ZodType>(
  schema: S,
  options: Record<string, unknown>,
): z.output<S> {
  const own = Object.fromEntries(
    Object.entries(options).filter(
      ([key]) => !(CONNECTION_KEYS as readonly string[]).includes(key),
    ),
  );
  const parsed = schema.safeParse(own);
  if (parsed.success) return parsed.data;
  throw new UsageError(z.prettifyError(parsed.error));
}
