import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { STATUS_SCRIPT } from '../shared/scripts/index.ts';

/** Debian's python3-winrm is importable by the system Python only (DESIGN.md). */
const PYTHON = '/usr/bin/python3';
const SWEEP_SCRIPT = fileURLToPath(new URL('./pywinrm-sweep.py', import.meta.url));

const PywinrmOutput = z.object({
  seconds: z.number(),
  /** CPU time of the Python process (all threads) during the sweep. */
  cpuSeconds: z.number(),
  outcomes: z.record(z.string(), z.number()),
  exchanges: z.record(z.string(), z.number()),
});
export type PywinrmFigures = z.infer<typeof PywinrmOutput>;

/** True when `/usr/bin/python3 -c 'import winrm'` works. */
export function pywinrmAvailable(): boolean {
  return spawnSync(PYTHON, ['-c', 'import winrm'], { stdio: 'ignore' }).status === 0;
}

/** Runs the status script on every device of the fleet CSV with pywinrm and a thread pool. */
export async function runPywinrm(options: {
  csvPath: string;
  dir: string;
  user: string;
  password: string;
  threads: number;
}): Promise<PywinrmFigures> {
  const scriptPath = join(options.dir, 'status.ps1');
  writeFileSync(scriptPath, STATUS_SCRIPT);
  const args = [SWEEP_SCRIPT, options.csvPath, scriptPath, options.user, options.password];
  const stdout = await runProcess(PYTHON, [...args, String(options.threads)]);
  return PywinrmOutput.parse(JSON.parse(stdout));
}

function runProcess(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`${command} exited with code ${code}`));
    });
  });
}
