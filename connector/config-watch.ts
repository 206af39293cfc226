import { type FSWatcher, watch } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../shared/logger.ts';
import { type ConnectorConfig, loadConnectorConfig } from './config.ts';
import type { SiteThrottle, ThrottleSettings } from './throttle.ts';

/** Settings a running connector takes from a changed file; any other change needs a restart. */
export const LIVE_KEYS = ['throttleLimit', 'rampUp', 'jitterMs'] as const;

export interface ConfigWatchOptions {
  /** The config file the connector was started with. */
  file: string;
  /** The config in force now. */
  current: ConnectorConfig;
  logger: Logger;
  /** Called with a valid changed config and the keys whose values changed. */
  onChange: (next: ConnectorConfig, changedKeys: string[]) => void;
  /** Quiet time after the last file event before the file is read. Default 100 ms. */
  debounceMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface ConfigWatch {
  close(): void;
}

/** The throttle settings a config asks for. */
export function throttleSettings(config: ConnectorConfig): ThrottleSettings {
  return { budget: config.throttleLimit, rampUp: config.rampUp, jitterMs: config.jitterMs };
}

/** Applies a changed config's live settings to the site's throttle; work in hand is kept. */
export function applyLiveConfig(throttle: SiteThrottle, config: ConnectorConfig): void {
  throttle.reconfigure(throttleSettings(config));
}

/**
 * Re-reads the connector's config file when it changes. The folder is watched rather than the
 * file, because editors and config tools replace a file (write a new one, rename it over the
 * old), which ends a watch on the old file. An invalid file is logged and ignored: the config
 * in force stays.
 */
export function watchConnectorConfig(options: ConfigWatchOptions): ConfigWatch {
  const { file, logger } = options;
  const name = path.basename(file);
  let current = options.current;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const reload = async () => {
    const next = await loadConnectorConfig(file, options.env).catch((error: unknown) => {
      logger.warn({ err: error, file }, 'config change ignored');
      return undefined;
    });
    if (!next || closed) return;
    const changed = changedKeys(current, next);
    if (changed.length === 0) return;
    current = next;
    warnAboutRestart(logger, changed);
    logger.info({ changedKeys: changed, throttleLimit: next.throttleLimit }, 'config reloaded');
    options.onChange(next, changed);
  };

  const watcher: FSWatcher = watch(path.dirname(file), (_event, changedName) => {
    if (changedName !== null && changedName !== name) return;
    clearTimeout(timer);
    timer = setTimeout(() => void reload(), options.debounceMs ?? 100);
  });
  watcher.on('error', (error) => logger.warn({ err: error, file }, 'config watch failed'));
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      watcher.close();
    },
  };
}

/** Top-level keys whose values differ (compared as JSON). */
export function changedKeys(before: ConnectorConfig, after: ConnectorConfig): string[] {
  const a: Record<string, unknown> = { ...before };
  const b: Record<string, unknown> = { ...after };
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((key) => JSON.stringify(a[key]) !== JSON.stringify(b[key]));
}

function warnAboutRestart(logger: Logger, changed: readonly string[]): void {
  const live: readonly string[] = LIVE_KEYS;
  const needRestart = changed.filter((key) => !live.includes(key));
  if (needRestart.length > 0) logger.warn({ keys: needRestart }, 'config change needs a restart');
}

/** Applies the config's throttle settings now and again each time the file changes. */
export function startLiveConfig(options: {
  file: string;
  current: ConnectorConfig;
  throttle: SiteThrottle;
  logger: Logger;
}): ConfigWatch {
  applyLiveConfig(options.throttle, options.current);
  return watchConnectorConfig({
    ...options,
    onChange: (next) => applyLiveConfig(options.throttle, next),
  });
}
