import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { createLogger, type Logger } from '../shared/logger.ts';
import { startArchiveMaintenance } from './archive/index.ts';
import { type ConnectorConfig, loadConnectorConfig } from './config.ts';
import { startLiveConfig } from './config-watch.ts';
import { ConnectorService } from './service.ts';
import { createTransport } from './transports.ts';

const Flags = z.strictObject({ config: z.string().min(1) });

/** `tsx connector/main.ts --config FILE`: runs one site's connector until SIGTERM or SIGINT. */
async function main(): Promise<Logger> {
  const { values } = parseArgs({ options: { config: { type: 'string' } }, strict: true });
  const flags = Flags.parse(values);
  const config = await loadConnectorConfig(flags.config);
  const logger = createLogger('connector').child({ siteId: config.siteId });

  writePidFile(config);
  const service = new ConnectorService({
    config,
    transport: createTransport(config.transport, logger),
    logger,
  });
  // The first signal drains; a second one abandons the devices still in flight.
  process.on('SIGTERM', () => service.stop());
  process.on('SIGINT', () => service.stop());
  const parentWatch = watchParent(service, logger);
  // Live config reload (throttle limit, ramp-up, jitter) and archive retention and vacuum.
  const live = startLiveConfig({
    file: flags.config,
    current: config,
    throttle: service.throttle,
    logger,
  });
  const upkeep = startArchiveMaintenance(config, logger);
  try {
    await service.run();
  } finally {
    parentWatch.close();
    live.close();
    await upkeep.stop();
    removePidFile(config);
  }
  return logger;
}

/** How often the parent watch looks at `process.ppid`. */
const PARENT_CHECK_MS = 1000;

/**
 * With `WINFLEET_EXIT_WITH_PARENT=1` (set by the local supervisor), drains and exits when the
 * process that started the connector is gone: killed with -9, the supervisor cannot stop its
 * children, and each would go on polling its site's queue beside the next supervisor's. An
 * orphan is re-parented (to init or a subreaper), so its parent pid changes.
 */
function watchParent(service: ConnectorService, logger: Logger): { close(): void } {
  if (process.env.WINFLEET_EXIT_WITH_PARENT !== '1') return { close() {} };
  const parentPid = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parentPid) return;
    clearInterval(timer);
    logger.warn({ parentPid, newParentPid: process.ppid }, 'parent process gone');
    service.stop();
  }, PARENT_CHECK_MS);
  timer.unref();
  return { close: () => clearInterval(timer) };
}

function writePidFile(config: ConnectorConfig): void {
  mkdirSync(config.dataDir, { recursive: true });
  writeFileSync(config.pidPath, `${process.pid}\n`);
}

/** Removes the pid file unless a newer connector has already written its own. */
function removePidFile(config: ConnectorConfig): void {
  try {
    if (readFileSync(config.pidPath, 'utf8').trim() === String(process.pid)) {
      rmSync(config.pidPath);
    }
  } catch {
    // Already gone: nothing to clean up.
  }
}

/** Exits once the logger has written every line (a file destination writes asynchronously). */
function exitAfterFlush(logger: Logger, code: number): void {
  logger.flush(() => process.exit(code));
}

main().then(
  (logger) => exitAfterFlush(logger, 0),
  (error: unknown) => {
    const logger = createLogger('connector');
    logger.fatal({ err: error }, 'connector failed');
    exitAfterFlush(logger, 1);
  },
);
