import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';

/** The local stack's defaults (`winfleet local up`, DESIGN.md contract 2). */
export const LOCAL_API_URL = 'http://127.0.0.1:8787';
export const LOCAL_DATA_DIR = '.data/winfleet';

const ApiUrl = z.url({ protocol: /^https?$/ }).describe('the API base URL');
const Region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as eu-west-1');

/** One named profile of the config file: a bearer token, or SigV4 with AWS credentials. */
export const Profile = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('token'), apiUrl: ApiUrl, token: z.string().min(1) }),
  z.strictObject({
    kind: z.literal('aws'),
    apiUrl: ApiUrl,
    region: Region.optional(),
    /** A profile of `~/.aws/config` for the AWS default credential chain. */
    awsProfile: z.string().min(1).optional(),
  }),
]);
export type Profile = z.infer<typeof Profile>;

/** `~/.config/winfleet/config.json`. */
export const ConfigFile = z.strictObject({
  defaultProfile: z.string().min(1).optional(),
  profiles: z.record(z.string().min(1), Profile),
});
export type ConfigFile = z.infer<typeof ConfigFile>;

/** The connection flags every API command takes. */
export const ConnectionFlags = z.strictObject({
  apiUrl: ApiUrl.optional(),
  token: z.string().min(1).optional(),
  profile: z.string().min(1).optional(),
  aws: z.boolean().optional(),
  region: Region.optional(),
});
export type ConnectionFlags = z.infer<typeof ConnectionFlags>;

/** Where and how the CLI calls the API. */
export type Connection =
  | { kind: 'token'; apiUrl: string; token: string }
  | { kind: 'aws'; apiUrl: string; region: string; awsProfile?: string };

/** A connection setting that is missing or wrong, said in terms the operator can act on. */
export class ConnectionError extends Error {
  override readonly name = 'ConnectionError';
}

export interface ResolveOptions {
  env?: NodeJS.ProcessEnv;
  /** Folder the local stack's data folder is relative to. Default the working directory. */
  cwd?: string;
}

/**
 * Decides the API URL and credentials: flags first, then the environment (`WINFLEET_API_URL`,
 * `WINFLEET_TOKEN`, `WINFLEET_PROFILE`), then the profile file (`WINFLEET_CONFIG` or
 * `~/.config/winfleet/config.json`), and with none of these the local stack on this machine
 * (its token from `WINFLEET_DATA_DIR` or `.data/winfleet`, at http://127.0.0.1:8787). `--aws`
 * or a profile of kind aws signs with SigV4 instead of sending a token.
 */
export function resolveConnection(raw: unknown, options: ResolveOptions = {}): Connection {
  const env = options.env ?? process.env;
  const flags = parseOrThrow(ConnectionFlags, raw, 'flags');
  const envUrl = env.WINFLEET_API_URL || undefined;
  const apiUrl = flags.apiUrl ?? (envUrl && parseOrThrow(ApiUrl, envUrl, 'WINFLEET_API_URL'));
  const token = flags.token ?? (env.WINFLEET_TOKEN || undefined);
  const profile = selectProfile(flags.profile ?? (env.WINFLEET_PROFILE || undefined), env);

  if (flags.aws || (profile?.kind === 'aws' && !token)) {
    const url = apiUrl ?? profile?.apiUrl;
    if (!url) throw new ConnectionError('--aws needs --api-url, WINFLEET_API_URL or a profile');
    const awsProfile = profile?.kind === 'aws' ? profile.awsProfile : undefined;
    const region = flags.region ?? (profile?.kind === 'aws' ? profile.region : undefined);
    return { kind: 'aws', apiUrl: url, region: regionOf(url, region, env), awsProfile };
  }
  if (apiUrl && token) return { kind: 'token', apiUrl, token };
  if (profile?.kind === 'token') {
    return { kind: 'token', apiUrl: apiUrl ?? profile.apiUrl, token: token ?? profile.token };
  }
  if (apiUrl || token) {
    throw new ConnectionError(
      apiUrl
        ? `no token for ${apiUrl}: give --token, WINFLEET_TOKEN or a profile`
        : 'a token without an API URL: give --api-url, WINFLEET_API_URL or a profile',
    );
  }
  return localStack(env, options.cwd ?? process.cwd());
}

function selectProfile(name: string | undefined, env: NodeJS.ProcessEnv): Profile | undefined {
  const path = env.WINFLEET_CONFIG || configPath(env);
  const file = readConfigFile(path);
  if (!file) {
    if (name) throw new ConnectionError(`profile ${name} asked for, but ${path} does not exist`);
    return undefined;
  }
  const chosen = name ?? file.defaultProfile;
  if (!chosen) return undefined;
  const profile = file.profiles[chosen];
  if (!profile) {
    const known = Object.keys(file.profiles).join(', ') || 'none';
    throw new ConnectionError(`no profile ${chosen} in ${path} (it has: ${known})`);
  }
  return profile;
}

/** `$XDG_CONFIG_HOME/winfleet/config.json`, by default under `~/.config`. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'winfleet', 'config.json');
}

function readConfigFile(path: string): ConfigFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return undefined;
    throw new ConnectionError(`cannot read ${path}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConnectionError(`${path} is not valid JSON`, { cause: error });
  }
  return parseOrThrow(ConfigFile, json, path);
}

/** The region from the flag or profile, the environment, or an execute-api host name. */
function regionOf(apiUrl: string, region: string | undefined, env: NodeJS.ProcessEnv): string {
  const fromHost = /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(new URL(apiUrl).hostname);
  const found = region ?? fromHost?.[1] ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION);
  if (!found) {
    throw new ConnectionError('no AWS region: give --region, AWS_REGION or an execute-api URL');
  }
  return parseOrThrow(Region, found, 'the AWS region');
}

function localStack(env: NodeJS.ProcessEnv, cwd: string): Connection {
  const dataDir = resolve(cwd, env.WINFLEET_DATA_DIR || LOCAL_DATA_DIR);
  const tokenPath = join(dataDir, 'api-token');
  let token: string;
  try {
    token = readFileSync(tokenPath, 'utf8').trim();
  } catch (error) {
    throw new ConnectionError(
      `no API given (--api-url/--token, WINFLEET_API_URL/WINFLEET_TOKEN or a profile) and ` +
        `no local stack token at ${tokenPath} (start one with winfleet local up)`,
      { cause: error },
    );
  }
  return { kind: 'token', apiUrl: localApiUrl(dataDir), token };
}

/** The URL a running local stack wrote to its data folder (it may use another --port). */
function localApiUrl(dataDir: string): string {
  try {
    const url = readFileSync(join(dataDir, 'api-url'), 'utf8').trim();
    return z.url().safeParse(url).success ? url : LOCAL_API_URL;
  } catch {
    return LOCAL_API_URL;
  }
}

function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ConnectionError(`${where}: ${z.prettifyError(parsed.error)}`, { cause: parsed.error });
}
