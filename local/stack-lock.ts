import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { LocalStackError } from './errors.ts';

/**
 * Claims a data folder for this process: two stacks on one folder would share dynalite's
 * LevelDB files and the archives, and the second would crash deep inside dynalite. A pid file
 * left by a stack that died is taken over. Returns a function that releases the claim.
 */
export function lockDataDir(pidPath: string, dataDir: string): () => void {
  const holder = runningHolder(pidPath);
  if (holder !== undefined) {
    throw new LocalStackError(
      `a winfleet stack (pid ${holder}) is already running on ${dataDir}: stop it first, ` +
        'or give this one another --data-dir',
    );
  }
  writeFileSync(pidPath, `${process.pid}\n`);
  return () => {
    if (runningHolder(pidPath) === process.pid) rmSync(pidPath, { force: true });
  };
}

function runningHolder(pidPath: string): number | undefined {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(pidPath, 'utf8'), 10);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}
