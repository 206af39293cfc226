import type { Command } from 'commander';
import type { z } from 'zod';
import { ApiClient } from '../api-client.ts';
import { type Connection, resolveConnection } from '../connection.ts';
import { issuesText, UsageError } from '../errors.ts';
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
 * Parses a command's own flags (the connection options left out) with zod, or throws a
 * `UsageError` naming each bad flag.
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
  throw new UsageError(issuesText(parsed.error, true));
}

export { UsageError };
