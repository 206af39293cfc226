import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DeviceTarget } from '../shared/schemas/device.ts';

const require = createRequire(import.meta.url);
const CLI_MAIN = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
const TSX_LOADER = require.resolve('tsx');
const START_TIMEOUT_MS = 60_000;

export interface SimProcessOptions {
  devices: number;
  /** A loopback /16 such as 127.100.0.0/16. */
  subnet: string;
  latencyMs: number;
  user: string;
  password: string;
  /** Directory for the fleet CSV. */
  dir: string;
}

export interface SimProcess {
  pid: number;
  csvPath: string;
  devices: DeviceTarget[];
  stop(): Promise<void>;
}

/**
 * Runs `winfleet sim` as its own OS process, so the simulated fleet and the client under test
 * each have a core of their own instead of sharing one event loop.
 */
export async function startSimProcess(options: SimProcessOptions): Promise<SimProcess> {
  const csvPath = join(options.dir, 'fleet.csv');
  const child = spawn(
    process.execPath,
    [
      ...['--import', TSX_LOADER, CLI_MAIN, 'sim', '--devices', String(options.devices)],
      ...['--subnet', options.subnet, '--latency-ms', String(options.latencyMs)],
      ...['--user', options.user, '--password', options.password, '--fleet-out', csvPath],
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'warn' } },
  );
  await waitForReady(child);
  return {
    pid: child.pid ?? 0,
    csvPath,
    devices: readFleetCsv(csvPath),
    stop: () => stopChild(child),
  };
}

function waitForReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(
      () => fail(new Error('winfleet sim did not start in time')),
      START_TIMEOUT_MS,
    );
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (!text.includes('fleet written to')) return;
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => fail(new Error(`winfleet sim exited with code ${code}`)));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** The `computerName,address,siteId` CSV written by `winfleet sim`, as device targets. */
export function readFleetCsv(path: string): DeviceTarget[] {
  const lines = readFileSync(path, 'utf8').trim().split('\n').slice(1);
  return lines.map((line) => {
    const [computerName = '', address = ''] = line.split(',');
    return { deviceId: computerName.toLowerCase(), computerName, address, port: 5985 };
  });
}
