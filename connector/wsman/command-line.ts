/** cmd.exe's command-line limit: WinRS starts the command through cmd.exe. */
export const MAX_COMMAND_LINE_CHARS = 8191;

const POWERSHELL = 'powershell';
const BASE_ARGS = ['-NoProfile', '-NonInteractive'] as const;

/**
 * Reads the real script from stdin and runs it. The script travels as base64 of its UTF-8
 * bytes, so stdin carries only ASCII and the console code page cannot garble it. powershell.exe
 * started with -EncodedCommand and a redirected stdin exposes the input lines as `$input`
 * (Ansible's WinRM bootstrap reads its payload the same way). `-Command -` is not used: it
 * runs stdin line by line like an interactive prompt, so multi-line statements and
 * here-strings break. `exit N` inside the script block ends powershell.exe with N.
 */
export const STDIN_BOOTSTRAP = [
  "$winfleetScript = ($input | Out-String) -replace '\\s', ''",
  '$winfleetScript = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($winfleetScript))',
  '& ([ScriptBlock]::Create($winfleetScript))',
].join('\n');

/** How to start powershell.exe for a script: its arguments, and stdin bytes when needed. */
export interface PowerShellInvocation {
  command: string;
  args: string[];
  /** The script for stdin (base64 text lines), when it is too long for the command line. */
  stdin: Buffer | undefined;
}

/** PowerShell's -EncodedCommand form: base64 of the script's UTF-16LE bytes. */
export function encodePowerShell(script: string): string {
  return Buffer.from(script, 'utf16le').toString('base64');
}

/**
 * Plans the command for a script: `-EncodedCommand` when the command line stays within
 * `maxCommandLineChars`, otherwise the stdin bootstrap with the script sent over stdin.
 */
export function planInvocation(
  script: string,
  maxCommandLineChars = MAX_COMMAND_LINE_CHARS,
): PowerShellInvocation {
  const direct = [...BASE_ARGS, '-EncodedCommand', encodePowerShell(script)];
  if (commandLineLength(direct) <= maxCommandLineChars) {
    return { command: POWERSHELL, args: direct, stdin: undefined };
  }
  const args = [...BASE_ARGS, '-EncodedCommand', encodePowerShell(STDIN_BOOTSTRAP)];
  return { command: POWERSHELL, args, stdin: stdinPayload(script) };
}

function commandLineLength(args: readonly string[]): number {
  return [POWERSHELL, ...args].join(' ').length;
}

/** The script as base64 lines of 1,000 characters, CRLF-terminated. */
function stdinPayload(script: string): Buffer {
  const base64 = Buffer.from(script, 'utf8').toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < base64.length; i += 1000) lines.push(base64.slice(i, i + 1000));
  return Buffer.from(`${lines.join('\r\n')}\r\n`, 'ascii');
}

/** Splits stdin bytes into chunks of at most `maxChunkBytes`; at least one chunk. */
export function chunkBytes(bytes: Buffer, maxChunkBytes: number): Buffer[] {
  if (maxChunkBytes < 1) throw new Error(`maxChunkBytes must be at least 1, got ${maxChunkBytes}`);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += maxChunkBytes) {
    chunks.push(bytes.subarray(i, i + maxChunkBytes));
  }
  return chunks.length > 0 ? chunks : [Buffer.alloc(0)];
}
