import {
  INVENTORY_SCRIPT_MARKER,
  SERVICE_SCRIPT_MARKER,
  STATUS_SCRIPT_MARKER,
} from '../shared/scripts/index.ts';
import { CLIXML_FOOTER, CLIXML_HEADER, clixmlErrorLines } from './clixml.ts';
import { inventoryFor } from './inventory.ts';
import {
  expandString,
  type Statement,
  splitStatements,
  type Token,
  tokenize,
} from './powershell-parse.ts';
import type { ProgramHost } from './program-host.ts';
import { runServiceScript } from './service.ts';
import { statusFor } from './status.ts';

/** Stops the script: `exit N` or a terminating error. */
class ScriptStop {
  constructor(readonly exitCode: number) {}
}

const NO_OP_COMMANDS = new Set(['set-strictmode', 'import-module', 'out-null']);

/**
 * Runs a PowerShell script the way `powershell.exe -NonInteractive` would as far as tests
 * need: Write-Output, Write-Host, Write-Error, throw, exit, Start-Sleep, literals, simple
 * variables and the built-in status script. Errors go to stderr as CLIXML. Resolves with
 * the process exit code.
 */
export async function runPowerShell(script: string, host: ProgramHost): Promise<number> {
  const run = new ScriptRun(host);
  try {
    const marker = firstLine(script);
    if (marker === STATUS_SCRIPT_MARKER) run.status();
    else if (marker === INVENTORY_SCRIPT_MARKER) run.inventory();
    else if (marker === SERVICE_SCRIPT_MARKER) run.service(script);
    else await run.statements(splitStatements(script));
  } catch (error) {
    if (!(error instanceof ScriptStop)) throw error;
    run.close();
    return error.exitCode;
  }
  run.close();
  return run.hadError ? 1 : 0;
}

function firstLine(script: string): string {
  return (script.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '').trim();
}

class ScriptRun {
  hadError = false;
  private clixmlOpen = false;
  private readonly variables = new Map<string, string>();

  constructor(private readonly host: ProgramHost) {}

  async statements(statements: Statement[]): Promise<void> {
    for (const statement of statements) {
      if (this.host.signal.aborted) throw new ScriptStop(1);
      await this.statement(statement);
    }
  }

  status(): void {
    if (this.host.faults.failStatus) {
      this.error(
        [
          'Get-CimInstance : The WS-Management service cannot process the request. The WMI service or the WMI provider returned an unknown error: HRESULT 0x80041010',
          'At line:3 char:7',
          '+ $os = Get-CimInstance -ClassName Win32_OperatingSystem',
          '+       ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~',
          '    + CategoryInfo          : NotSpecified: (root\\cimv2:Win32_OperatingSystem:String) [Get-CimInstance], CimException',
          '    + FullyQualifiedErrorId : HRESULT 0x80041010,Microsoft.Management.Infrastructure.CimCmdlets.GetCimInstanceCommand',
          ' ',
        ],
        true,
      );
    }
    this.host.out(`${JSON.stringify(statusFor(this.host.computerName))}\r\n`);
  }

  inventory(): void {
    const inventory = inventoryFor(this.host.computerName, this.host.serviceStates);
    this.host.out(`${JSON.stringify(inventory)}\r\n`);
  }

  service(script: string): void {
    const run = runServiceScript(script, this.host.serviceStates);
    if ('errorLines' in run) this.error(run.errorLines, true);
    else this.host.out(`${JSON.stringify(run.output)}\r\n`);
  }

  close(): void {
    if (this.clixmlOpen) this.host.err(CLIXML_FOOTER);
    this.clixmlOpen = false;
  }

  private async statement({ text, line }: Statement): Promise<void> {
    const tokens = tokenize(text);
    const [first, second] = tokens;
    if (!first) return;
    if (first.kind === 'variable' && second?.kind === 'operator' && second.value === '=') {
      this.variables.set(first.name.toLowerCase(), this.values(tokens.slice(2)).join(' '));
      return;
    }
    if (first.kind !== 'word') {
      for (const value of this.values(tokens)) this.host.out(`${value}\r\n`);
      return;
    }
    await this.invoke(first.value, tokens.slice(1), { text, line });
  }

  private async invoke(name: string, args: Token[], where: Statement): Promise<void> {
    const command = name.toLowerCase();
    if (/^-?\d+(\.\d+)?$/.test(name)) return this.host.out(`${name}\r\n`);
    if (command === 'exit') return this.exit(args);
    if (command === 'throw') return this.throw(args, where);
    if (command === 'write-output' || command === 'echo' || command === 'write') {
      for (const value of this.values(positional(args))) this.host.out(`${value}\r\n`);
      return;
    }
    if (command === 'write-host') return this.writeHost(args);
    if (command === 'write-error') return this.writeError(args, where);
    if (command === 'start-sleep' || command === 'sleep') return this.sleep(args);
    if (command === 'hostname') return this.host.out(`${this.host.computerName}\r\n`);
    if (NO_OP_COMMANDS.has(command)) return;
    this.notRecognized(name, where);
  }

  private exit(args: Token[]): never {
    this.close();
    const [code] = this.values(args.filter((t) => t.kind !== 'operator'));
    const exitCode = Number.parseInt(code ?? '0', 10);
    throw new ScriptStop(Number.isNaN(exitCode) ? 0 : exitCode);
  }

  private throw(args: Token[], where: Statement): void {
    const message = this.values(args).join(' ') || 'ScriptHalted';
    this.error(
      [
        message,
        `At line:${where.line} char:1`,
        `+ ${where.text}`,
        `+ ${'~'.repeat(where.text.length)}`,
        `    + CategoryInfo          : OperationStopped: (${message}:String) [], RuntimeException`,
        `    + FullyQualifiedErrorId : ${message}`,
        ' ',
      ],
      true,
    );
  }

  private writeHost(args: Token[]): void {
    const noNewline = args.some((t) => t.kind === 'parameter' && /^nonewline$/i.test(t.name));
    const text = this.values(positional(args)).join(' ');
    this.host.out(noNewline ? text : `${text}\r\n`);
  }

  private writeError(args: Token[], where: Statement): void {
    const message = (named(args, 'message') ?? this.values(positional(args))).join(' ');
    this.error(
      [
        `${where.text} : ${message}`,
        '    + CategoryInfo          : NotSpecified: (:) [Write-Error], WriteErrorException',
        '    + FullyQualifiedErrorId : Microsoft.PowerShell.Commands.WriteErrorException',
        ' ',
      ],
      this.stopOnError(),
    );
  }

  private notRecognized(name: string, where: Statement): void {
    this.error(
      [
        `${name} : The term '${name}' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.`,
        `At line:${where.line} char:1`,
        `+ ${where.text}`,
        `+ ${'~'.repeat(name.length)}`,
        `    + CategoryInfo          : ObjectNotFound: (${name}:String) [], CommandNotFoundException`,
        '    + FullyQualifiedErrorId : CommandNotFoundException',
        ' ',
      ],
      this.stopOnError(),
    );
  }

  private async sleep(args: Token[]): Promise<void> {
    const milliseconds = named(args, 'milliseconds', 'm', 'ms');
    const seconds = named(args, 'seconds', 's') ?? this.values(positional(args));
    const ms = milliseconds ? Number(milliseconds[0]) : Number(seconds[0] ?? 0) * 1000;
    if (Number.isFinite(ms) && ms > 0) await this.host.sleep(ms);
  }

  private error(lines: string[], terminating: boolean): void {
    this.hadError = true;
    if (!this.clixmlOpen) this.host.err(CLIXML_HEADER);
    this.clixmlOpen = true;
    this.host.err(clixmlErrorLines(lines));
    if (terminating) throw new ScriptStop(1);
  }

  private stopOnError(): boolean {
    return this.variables.get('erroractionpreference')?.toLowerCase() === 'stop';
  }

  /** The values of literal and variable tokens; operators and parameters are skipped. */
  private values(tokens: Token[]): string[] {
    const values: string[] = [];
    for (const token of tokens) {
      if (token.kind === 'string') {
        values.push(
          token.expandable ? expandString(token.value, (n) => this.lookup(n)) : token.value,
        );
      } else if (token.kind === 'variable') {
        values.push(this.lookup(token.name));
      } else if (token.kind === 'word') {
        values.push(token.value);
      }
    }
    return values;
  }

  private lookup(name: string): string {
    const lower = name.toLowerCase();
    if (lower === 'env:computername') return this.host.computerName;
    if (lower === 'env:username') return this.host.userName;
    return this.variables.get(lower) ?? '';
  }
}

/** Tokens that are not parameters nor the value that follows a parameter. */
function positional(args: Token[]): Token[] {
  const result: Token[] = [];
  for (let i = 0; i < args.length; i++) {
    const token = args[i] as Token;
    if (token.kind === 'parameter') {
      if (!/^(nonewline|noenumerate)$/i.test(token.name)) i++;
      continue;
    }
    result.push(token);
  }
  return result;
}

/** The value tokens after a parameter named by any of `names` (case-insensitive prefix). */
function named(args: Token[], ...names: string[]): string[] | undefined {
  const index = args.findIndex(
    (t) => t.kind === 'parameter' && names.includes(t.name.toLowerCase()),
  );
  const value = args[index + 1];
  if (index < 0 || !value) return undefined;
  if (value.kind === 'string' || value.kind === 'word') return [value.value];
  return undefined;
}
