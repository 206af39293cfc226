import { runCmd } from './cmd.ts';
import { runPowerShell } from './powershell.ts';
import type { ProgramHost } from './program-host.ts';
import { readsStdin, runStdinBootstrap } from './stdin-bootstrap.ts';

/** Programs that exist as files, so they start even when WINRS_SKIP_CMD_SHELL is set. */
const EXECUTABLES = new Set(['powershell', 'pwsh', 'cmd', 'hostname', 'whoami', 'ipconfig']);

/** Splits a Windows command line at spaces outside double quotes, dropping the quotes. */
export function splitCommandLine(line: string): string[] {
  const args: string[] = [];
  let current: string | undefined;
  let quoted = false;
  for (const char of line) {
    if (char === '"') {
      quoted = !quoted;
      current ??= '';
    } else if (!quoted && /\s/.test(char)) {
      if (current !== undefined) args.push(current);
      current = undefined;
    } else {
      current = (current ?? '') + char;
    }
  }
  if (current !== undefined) args.push(current);
  return args;
}

function programName(arg: string | undefined): string {
  const base = (arg ?? '').split(/[\\/]/).pop() ?? '';
  return base.toLowerCase().replace(/\.exe$/, '');
}

/** Whether the command line's program exists without cmd.exe (WINRS_SKIP_CMD_SHELL). */
export function isExecutable(commandLine: string): boolean {
  return EXECUTABLES.has(programName(splitCommandLine(commandLine)[0]));
}

/** Runs a command line; resolves with the exit code. */
export async function runProgram(commandLine: string, host: ProgramHost): Promise<number> {
  const args = splitCommandLine(commandLine);
  const name = programName(args[0]);
  if (name !== 'powershell' && name !== 'pwsh') return runCmd(commandLine, host);
  const invocation = parsePowerShellArgs(args.slice(1));
  if (invocation.error) {
    host.err(`${invocation.error}\r\n`);
    return 0xfffd0000 | 0;
  }
  if (invocation.stdinBootstrap) return runStdinBootstrap(invocation.stdinBootstrap, host);
  const script = invocation.script ?? (await host.readStdin());
  return runPowerShell(script, host);
}

interface PowerShellInvocation {
  /** The script to run; undefined when it comes from stdin. */
  script?: string;
  /** An encoded script that reads the real script from stdin (evaluated, not run as is). */
  stdinBootstrap?: string;
  error?: string;
}

const VALUE_PARAMETERS = [
  'executionpolicy',
  'outputformat',
  'inputformat',
  'windowstyle',
  'configurationname',
  'psconsolefile',
  'version',
];
const FLAG_PARAMETERS = ['noprofile', 'noninteractive', 'nologo', 'noexit', 'sta', 'mta'];

/** Reads powershell.exe's parameters (case-insensitive, abbreviations allowed). */
export function parsePowerShellArgs(args: string[]): PowerShellInvocation {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (!arg.startsWith('-') && !arg.startsWith('/')) return { script: args.slice(i).join(' ') };
    const name = arg.slice(1).toLowerCase();
    if (name === 'e' || name === 'ec' || (name.length >= 2 && 'encodedcommand'.startsWith(name))) {
      return encodedScript(args[i + 1]);
    }
    if ('command'.startsWith(name)) return commandScript(args.slice(i + 1));
    if (name.length >= 1 && 'file'.startsWith(name)) {
      return args[i + 1] === '-'
        ? {}
        : { error: `The argument '${args[i + 1] ?? ''}' to the -File parameter does not exist.` };
    }
    if (VALUE_PARAMETERS.some((p) => p.startsWith(name))) i++;
    else if (!FLAG_PARAMETERS.some((p) => p.startsWith(name))) {
      return { error: `-${name} : The term '-${name}' is not recognized as a parameter.` };
    }
  }
  return {};
}

function encodedScript(base64: string | undefined): PowerShellInvocation {
  if (!base64)
    return {
      error:
        'Cannot process the command because of a missing parameter. A command must follow -EncodedCommand.',
    };
  const script = Buffer.from(base64, 'base64').toString('utf16le');
  // A short bootstrap that reads stdin and runs what it finds there (after decoding it, when
  // it says so): the script itself arrives by Send.
  return readsStdin(script) ? { stdinBootstrap: script } : { script };
}

function commandScript(rest: string[]): PowerShellInvocation {
  if (rest.length === 0 || (rest.length === 1 && rest[0] === '-')) return {};
  return { script: rest.join(' ') };
}
