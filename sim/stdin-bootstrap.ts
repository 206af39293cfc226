import { CLIXML_FOOTER, CLIXML_HEADER, clixmlErrorLines } from './clixml.ts';
import { runPowerShell } from './powershell.ts';
import { splitStatements } from './powershell-parse.ts';
import type { ProgramHost } from './program-host.ts';

/**
 * A short -EncodedCommand script that reads the real script from stdin and runs it. The
 * simulator evaluates the few expressions such bootstraps are made of, the way powershell.exe
 * would: `$input` (stdin's lines), `[Console]::In.ReadToEnd()`, `Out-String`, `-replace`,
 * `[Convert]::FromBase64String`, `[Text.Encoding]::UTF8.GetString`, and then runs the result
 * with `& ([ScriptBlock]::Create($x))`, `Invoke-Expression` or `iex`.
 */
export function readsStdin(script: string): boolean {
  return /\[Console\]::In\.ReadToEnd\(\)|\$input\b/i.test(script);
}

/** A bootstrap statement the simulator cannot evaluate (so the test's premise is wrong). */
class BootstrapError extends Error {}

/** Runs a stdin bootstrap: evaluates its statements over stdin; resolves with the exit code. */
export async function runStdinBootstrap(bootstrap: string, host: ProgramHost): Promise<number> {
  const stdin = await host.readStdin();
  const evaluation = new BootstrapEvaluation(stdin);
  try {
    for (const { text } of splitStatements(bootstrap)) {
      const script = evaluation.statement(text);
      if (script !== undefined) return await runPowerShell(script, host);
    }
    return 0;
  } catch (error) {
    if (!(error instanceof BootstrapError)) throw error;
    host.err(`${CLIXML_HEADER}${clixmlErrorLines([error.message, ' '])}${CLIXML_FOOTER}`);
    return 1;
  }
}

const ASSIGNMENT = /^\$(\w+)\s*=\s*(.+)$/s;
const RUNNERS = [
  /^[&.]\s*\(\s*\[(?:System\.Management\.Automation\.)?ScriptBlock\]::Create\((.+)\)\s*\)$/is,
  /^(?:Invoke-Expression|iex)\s+(?:-Command\s+)?(.+)$/is,
];
const PIPED_RUNNER = /^(.+?)\|\s*(?:Invoke-Expression|iex)$/is;

class BootstrapEvaluation {
  private readonly variables = new Map<string, string>();

  constructor(private readonly stdin: string) {}

  /** Evaluates one statement; returns the script it runs, if it runs one. */
  statement(text: string): string | undefined {
    const assignment = ASSIGNMENT.exec(text);
    if (assignment) {
      this.variables.set((assignment[1] as string).toLowerCase(), this.expression(assignment[2]));
      return undefined;
    }
    for (const runner of RUNNERS) {
      const match = runner.exec(text);
      if (match) return this.expression(match[1]);
    }
    const piped = PIPED_RUNNER.exec(text);
    if (piped) return this.expression(piped[1]);
    throw new BootstrapError(`the simulator cannot evaluate the bootstrap statement: ${text}`);
  }

  private expression(raw: string | undefined): string {
    const text = unwrap((raw ?? '').trim());
    const replace = /^(.+?)\s+-c?replace\s+'((?:[^']|'')*)'\s*,\s*'((?:[^']|'')*)'$/is.exec(text);
    if (replace) {
      const pattern = new RegExp(unquote(replace[2]), 'gi');
      return this.expression(replace[1]).replace(pattern, unquote(replace[3]));
    }
    const piped = /^(.+?)\s*\|\s*Out-String$/is.exec(text);
    if (piped) return outString(this.expression(piped[1]));
    const utf8 = /^\[(?:System\.)?Text\.Encoding\]::UTF8\.GetString\((.+)\)$/is.exec(text);
    if (utf8) return this.bytes(utf8[1] ?? '').toString('utf8');
    if (/^\$input$/i.test(text)) return this.stdin;
    if (/^\[(?:System\.)?Console\]::In\.ReadToEnd\(\)$/i.test(text)) return this.stdin;
    const variable = /^\$(\w+)$/.exec(text);
    if (variable) return this.variables.get((variable[1] as string).toLowerCase()) ?? '';
    throw new BootstrapError(`the simulator cannot evaluate the expression: ${text}`);
  }

  private bytes(raw: string): Buffer {
    const call = /^\[(?:System\.)?Convert\]::FromBase64String\((.+)\)$/is.exec(raw.trim());
    if (!call) throw new BootstrapError(`the simulator cannot evaluate the bytes of: ${raw}`);
    const base64 = this.expression(call[1]);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) {
      throw new BootstrapError(
        'Exception calling "FromBase64String" with "1" argument(s): "The input is not a valid ' +
          'Base-64 string as it contains a non-base 64 character, more than two padding ' +
          'characters, or an illegal character among the padding characters. "',
      );
    }
    return Buffer.from(base64, 'base64');
  }
}

/** `$input | Out-String`: stdin's lines, each ending in a line break. */
function outString(text: string): string {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines.map((line) => `${line}\r\n`).join('');
}

function unwrap(text: string): string {
  let current = text;
  while (current.startsWith('(') && current.endsWith(')') && balanced(current.slice(1, -1))) {
    current = current.slice(1, -1).trim();
  }
  return current;
}

function balanced(text: string): boolean {
  let depth = 0;
  for (const char of text) {
    if (char === '(') depth++;
    else if (char === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

function unquote(text: string | undefined): string {
  return (text ?? '').replace(/''/g, "'");
}
