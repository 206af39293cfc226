import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import nodePowerShell from 'node-powershell';
import { PowerShellUnavailableError } from './errors.ts';
import type { PowerShellProcess, PowerShellProcessFactory } from './process.ts';

/**
 * THE LIVE PART: the only code that needs a real `pwsh` or `powershell` on the connector host.
 * It starts one node-powershell process per worker. None can be installed on the machines that
 * build winfleet, so it is exercised only by `live-process.test.ts`'s check that a missing
 * executable is reported clearly; everything it runs is generated and parsed elsewhere.
 */
export function livePowerShellFactory(executable = defaultExecutable()): PowerShellProcessFactory {
  return () => {
    if (!onPath(executable)) throw new PowerShellUnavailableError(executable);
    const shell = new nodePowerShell.PowerShell({
      executable,
      throwOnInvocationError: false,
      executableOptions: { '-NoProfile': true, '-NonInteractive': true },
    });
    return liveProcess(shell);
  };
}

function liveProcess(shell: InstanceType<typeof nodePowerShell.PowerShell>): PowerShellProcess {
  return {
    async invoke(command) {
      const result = await shell.invoke(command);
      return {
        stdout: result.stdout?.toString('utf8') ?? '',
        stderr: result.stderr?.toString('utf8') ?? '',
      };
    },
    dispose: () => shell.dispose(),
  };
}

function defaultExecutable(): string {
  return process.platform === 'win32' ? 'powershell' : 'pwsh';
}

/** Whether `executable` (a path, or a name looked up on PATH) exists and may be run. */
export function onPath(executable: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const candidates = executable.includes(path.sep)
    ? [executable]
    : (env.PATH ?? '').split(path.delimiter).map((dir) => path.join(dir, executable));
  const extensions = process.platform === 'win32' ? ['', '.exe'] : [''];
  return candidates.some((candidate) =>
    extensions.some((ext) => {
      try {
        accessSync(candidate + ext, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    }),
  );
}
