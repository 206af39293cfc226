import { type Command, Option } from 'commander';
import { z } from 'zod';
import {
  MaxErrors,
  OperationRequest,
  OperationType,
  type Targets,
} from '../../shared/schemas/operation.ts';
import { readInputFile } from '../read-input.ts';
import { clientFrom, parseFlags, UsageError, withConnectionOptions } from './api-options.ts';
import { followOperation } from './follow.ts';

const PositiveInt = z.coerce.number().int().positive();

const RunFlags = z.strictObject({
  all: z.boolean().optional(),
  site: z.array(z.string()).optional(),
  device: z.array(z.string()).optional(),
  tag: z.array(z.string().regex(/^[^=]+=.*$/, 'key=value')).optional(),
  throttle: PositiveInt.optional(),
  maxErrors: z
    .string()
    .transform((v) => (/^\d+$/.test(v) ? Number(v) : v))
    .pipe(MaxErrors)
    .optional(),
  timeout: PositiveInt.optional(),
  force: z.boolean().optional(),
  scriptFile: z.string().min(1).optional(),
  arg: z.array(z.string().regex(/^[^=]+=.*$/, 'name=value')).optional(),
  service: z.string().min(1).optional(),
  action: z.enum(['start', 'stop', 'restart']).optional(),
  watch: z.boolean().optional(),
  json: z.boolean().optional(),
  pollMs: PositiveInt.optional(),
});
type RunFlags = z.infer<typeof RunFlags>;

/** `winfleet run <type>`: starts an operation, and with --watch follows it to its end. */
export function registerRunCommand(program: Command): void {
  const run = program
    .command('run')
    .description('start an operation (status, inventory, script or service) on a set of devices')
    .argument('<type>', 'status, inventory, script or service')
    .option('--all', 'every registered device')
    .option('--site <ids>', 'the devices of these sites (comma-separated, repeatable)', list)
    .option('--device <ids>', 'these devices (comma-separated, repeatable)', list)
    .option('--tag <key=value>', 'devices with this tag (repeatable: all must match)', list)
    .option('--throttle <n>', 'devices in flight at once per connector')
    .option('--max-errors <n|n%>', 'cancel the rest after this many failures (or percentage)')
    .option('--timeout <seconds>', 'per-device timeout')
    .option('--force', 'skip the connector cache for status and inventory')
    .option('--script-file <path>', 'PowerShell script to run (type script)')
    .option('--arg <name=value>', 'script argument (repeatable)', list)
    .option('--service <name>', 'Windows service name (type service)')
    .option('--action <action>', 'start, stop or restart (type service)')
    .option('--watch', 'show progress per site until the operation ends, then the summary')
    .option('--json', 'print JSON instead of text')
    // For tests and slow links; not worth a line in --help.
    .addOption(new Option('--poll-ms <ms>', 'between polls while watching').hideHelp())
    .addHelpText(
      'after',
      '\nWith --watch the exit code is 0 when the operation ends in Success, 2 otherwise.',
    );
  withConnectionOptions(run).action(async (type: string, options: Record<string, unknown>) => {
    const flags = parseFlags(RunFlags, options);
    const request = OperationRequest.parse(await buildRequest(type, flags));
    const api = await clientFrom(options);
    const accepted = await api.submit(request);
    if (flags.json && !flags.watch) {
      process.stdout.write(`${JSON.stringify(accepted)}\n`);
      return;
    }
    // With --json, stdout carries only the final operation.
    const out = flags.json ? process.stderr : process.stdout;
    out.write(`operation ${accepted.operationId} started: ${accepted.total} devices\n`);
    if (flags.watch) {
      await followOperation(api, accepted.operationId, {
        json: flags.json,
        pollMs: flags.pollMs,
      });
    }
  });
}

/** Comma-separated values, accumulated over repeated flags. */
function list(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean),
  ];
}

async function buildRequest(type: string, flags: RunFlags): Promise<unknown> {
  if (!OperationType.safeParse(type).success) {
    throw new UsageError(`unknown type ${type}: use ${OperationType.options.join(', ')}`);
  }
  const rateControl = {
    throttleLimit: flags.throttle,
    maxErrors: flags.maxErrors,
    timeoutSeconds: flags.timeout,
  };
  const hasRate = Object.values(rateControl).some((v) => v !== undefined);
  return {
    type,
    targets: targetsOf(flags),
    parameters: await parametersOf(type, flags),
    rateControl: hasRate ? rateControl : undefined,
    force: flags.force,
  };
}

function targetsOf(flags: RunFlags): Targets {
  const given = [flags.all, flags.site, flags.device, flags.tag].filter((t) => t !== undefined);
  if (given.length !== 1) {
    throw new UsageError('name the targets with exactly one of --all, --site, --device or --tag');
  }
  if (flags.site) return { siteIds: flags.site };
  if (flags.device) return { deviceIds: flags.device };
  if (flags.tag) return { tags: Object.fromEntries(flags.tag.map(splitPair)) };
  return { all: true };
}

async function parametersOf(type: string, flags: RunFlags): Promise<unknown> {
  if (type === 'script') {
    if (!flags.scriptFile) throw new UsageError('run script needs --script-file');
    const script = await readInputFile(flags.scriptFile);
    const args = flags.arg ? Object.fromEntries(flags.arg.map(splitPair)) : undefined;
    return { script, arguments: args };
  }
  if (type === 'service') {
    if (!flags.service || !flags.action) {
      throw new UsageError('run service needs --service NAME and --action start|stop|restart');
    }
    return { name: flags.service, action: flags.action };
  }
  if (flags.scriptFile || flags.service || flags.action || flags.arg) {
    throw new UsageError(`--script-file, --arg, --service and --action do not apply to ${type}`);
  }
  return undefined;
}

function splitPair(pair: string): [string, string] {
  const eq = pair.indexOf('=');
  return [pair.slice(0, eq), pair.slice(eq + 1)];
}
