import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  return ticksPerSecond;
}

/** User plus system CPU time of a process so far, from `/proc/<pid>/stat`; undefined when gone. */
export function cpuSeconds(pid: number | 'self'): number | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / clockTicks();
}

/** A process's peak resident set (VmHWM) in bytes; undefined when gone. */
export function peakRssBytes(pid: number | 'self'): number | undefined {
  return statusKb(pid, 'VmHWM');
}

/** A process's resident set now (VmRSS) in bytes; undefined when gone. */
export function rssBytes(pid: number | 'self'): number | undefined {
  return statusKb(pid, 'VmRSS');
}

/** Open file descriptors of a process; undefined when they cannot be listed. */
export function openFds(pid: number | 'self'): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/** The soft and hard limits on open files of a process. */
export function fdLimits(pid: number | 'self'): { soft: number; hard: number } | undefined {
  const limits = readProc(`/proc/${pid}/limits`);
  const match = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(limits ?? '');
  if (!match) return undefined;
  const value = (text = '') => (text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text));
  return { soft: value(match[1]), hard: value(match[2]) };
}

function statusKb(pid: number | 'self', key: string): number | undefined {
  const status = readProc(`/proc/${pid}/status`);
  const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status ?? '');
  return match ? Number(match[1]) * 1024 : undefined;
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
