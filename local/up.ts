import { join } from 'node:path';
import { ApiClient } from '../cli/api-client.ts';
import { createLogger, type Logger } from '../shared/logger.ts';
import { LocalStackError } from './errors.ts';
import { type LocalStack, startLocalStack } from './stack.ts';
import { formatSummary, summarizeBySite } from './summary.ts';
import { waitForOperation } from './wait.ts';

export interface LocalUpOptions {
  dataDir: string;
  port: number;
  sites: number;
  devices: number;
  latencyMs: number;
  subnetBase: number;
  sweep: boolean;
}

/**
 * `winfleet local up`: starts the embedded stack, prints the API's address, runs one status
 * sweep over every simulated device with a summary, then serves until SIGINT or SIGTERM.
 */
export async function runLocalUp(options: LocalUpOptions): Promise<void> {
  // The handlers run in this process too; their log lines go to the same file, not the terminal.
  process.env.WINFLEET_LOG_FILE = join(options.dataDir, 'logs', 'local.log');
  const logger = createLogger('local');
  const startedMs = Date.now();
  const stack = await startLocalStack({
    dataDir: options.dataDir,
    port: options.port,
    sites: options.sites,
    devicesPerSite: options.devices,
    latencyMs: options.latencyMs,
    subnetBase: options.subnetBase,
    logger,
  }).catch((error: unknown) => exitOnStackError(error));
  const stopping = stopOnSignal(stack, logger);
  const seconds = ((Date.now() - startedMs) / 1000).toFixed(1);
  print(`winfleet local stack is up in ${seconds} s: ${stack.url}`);
  print(`  ${stack.sites.length} sites, ${stack.devices.length} simulated devices`);
  print(`  API token: ${stack.paths.apiToken} (send "Authorization: Bearer <token>")`);
  print(`  logs: ${stack.paths.logs}`);
  if (options.sweep) await firstSweep(stack, logger);
  print('Serving; press Ctrl-C to stop.');
  await stopping;
}

async function firstSweep(stack: LocalStack, logger: Logger): Promise<void> {
  const api = new ApiClient(stack.url, stack.token);
  const accepted = await api.submit({ type: 'status', targets: { all: true } });
  print(`Status sweep ${accepted.operationId} over ${accepted.total} devices...`);
  const progress = new ProgressLine(accepted.total);
  const operation = await waitForOperation(api, accepted.operationId, {
    onProgress: (op) => progress.update(op.done),
  });
  progress.end();
  const results = await api.allResults(operation.operationId);
  print(formatSummary(operation, summarizeBySite(operation, results)));
  logger.info({ operationId: operation.operationId, status: operation.status }, 'first sweep done');
}

/** One line of progress, redrawn in place on a terminal and printed by tens of percent elsewhere. */
class ProgressLine {
  private lastDecile = -1;
  constructor(private readonly total: number) {}

  update(done: number): void {
    const text = `  ${done}/${this.total} devices done`;
    if (process.stdout.isTTY) {
      process.stdout.write(`\r${text}`);
      return;
    }
    const decile = Math.floor((done / Math.max(1, this.total)) * 10);
    if (decile > this.lastDecile) print(text);
    this.lastDecile = decile;
  }

  end(): void {
    if (process.stdout.isTTY) process.stdout.write('\n');
  }
}

function stopOnSignal(stack: LocalStack, logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      print(`\n${signal}: stopping connectors, fleet and emulators...`);
      logger.info({ signal }, 'stopping');
      void stack.stop().then(() => {
        print('Stopped.');
        resolve();
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** A start-up problem the operator can fix is one line on stderr, not a stack trace. */
function exitOnStackError(error: unknown): never {
  if (!(error instanceof LocalStackError)) throw error;
  process.stderr.write(`winfleet local up: ${error.message}\n`);
  process.exit(1);
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}
