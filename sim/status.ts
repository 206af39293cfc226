import type { StatusOutput } from '../shared/scripts/index.ts';
import { hashString, randomInt, seededRandom } from './random.ts';

const GIB = 1024 ** 3;
const OS_VERSIONS = ['10.0.19045', '10.0.22631', '10.0.17763', '10.0.20348', '10.0.26100'];
const MEMORY_GIB = [4, 8, 16, 32, 64];
const DISK_GIB = [128, 256, 512, 1024];
/** Every simulated device booted some fixed time before this process started. */
const SIMULATION_EPOCH_MS = Date.now();

/**
 * Plausible status values for one device: the hardware, OS and boot time are fixed by a hash
 * of its name; CPU and free memory wander a little from call to call around fixed centres.
 */
export function statusFor(computerName: string, nowMs = Date.now()): StatusOutput {
  const fixed = seededRandom(hashString(computerName));
  const pick = <T>(values: T[]): T => values[randomInt(fixed, 0, values.length - 1)] as T;
  const memoryTotalBytes = pick(MEMORY_GIB) * GIB;
  const diskTotalBytes = pick(DISK_GIB) * GIB;
  const osVersion = pick(OS_VERSIONS);
  const cpuCentre = randomInt(fixed, 2, 45);
  const memoryFreeShare = 0.2 + fixed() * 0.5;
  const diskFreeShare = 0.1 + fixed() * 0.75;
  const bootEpochMs = SIMULATION_EPOCH_MS - randomInt(fixed, 3_600, 2_592_000) * 1000;

  const jitter = seededRandom(hashString(computerName) ^ (nowMs >>> 0));
  return {
    computerName,
    uptimeSeconds: Math.max(0, Math.floor((nowMs - bootEpochMs) / 1000)),
    cpuPercent: Math.round(clamp(cpuCentre + (jitter() - 0.5) * 10, 0, 100) * 10) / 10,
    memoryTotalBytes,
    memoryFreeBytes: Math.floor(
      memoryTotalBytes * clamp(memoryFreeShare + (jitter() - 0.5) * 0.04, 0.01, 0.99),
    ),
    diskFreeBytes: Math.floor(diskTotalBytes * diskFreeShare),
    diskTotalBytes,
    osVersion,
  };
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
