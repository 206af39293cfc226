/**
 * The PowerShell text the transport hands to a local pwsh/powershell process (node-powershell
 * runs it with `-Command -`, one line at a time, so every command here is one line). Device
 * values and user names become single-quoted literals; the script and the password travel as
 * base64 of their UTF-8 bytes, so no character in them can end a string or a line.
 */

/** Marks the line that carries the JSON result among whatever else the host prints. */
export const RESULT_MARKER = '<<winfleet-result>>';

/** How the local PowerShell authenticates to devices (New-PSSession -Authentication). */
export type PsAuth =
  | { type: 'basic' | 'negotiate' | 'kerberos'; user: string; password: string }
  /** The connector service account's own credentials (Kerberos in a domain). */
  | { type: 'default' };

export interface SessionSettings {
  auth: PsAuth;
  /** -UseSSL (port 5986 usually). */
  https: boolean;
  /** -SkipCACheck -SkipCNCheck: only for labs. */
  skipCertificateChecks: boolean;
  /** OperationTimeout of the PSSession, in milliseconds. */
  operationTimeoutMs: number;
}

export interface SessionTarget {
  /** Names the PSSession in the process's pool (`$global:winfleetSessions`). */
  key: string;
  address: string;
  port: number;
}

const SINGLE_QUOTES = /['\u2018\u2019\u201a\u201b]/g;
const LINE_BREAKS = /[\r\n\u0085\u2028\u2029\0]/;

/**
 * A PowerShell single-quoted literal: nothing inside expands, and each quote character (the
 * ASCII one and the four typographic ones PowerShell also accepts) is doubled. Line breaks are
 * refused: the command must stay on one line.
 */
export function quoteLiteral(value: string): string {
  if (LINE_BREAKS.test(value)) {
    throw new RangeError(
      `a line break cannot be sent to PowerShell as a literal: ${JSON.stringify(value)}`,
    );
  }
  return `'${value.replace(SINGLE_QUOTES, (quote) => quote + quote)}'`;
}

/** An expression that evaluates to `value`, carried as base64 of its UTF-8 bytes. */
export function base64Expression(value: string): string {
  const base64 = Buffer.from(value, 'utf8').toString('base64');
  return `([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('${base64}')))`;
}

const AUTHENTICATION = { basic: 'Basic', negotiate: 'Negotiate', kerberos: 'Kerberos' } as const;

/**
 * Runs in the device's PSSession: writes the script to a temporary .ps1 (so `exit N` ends the
 * script with N, as it does in powershell.exe, instead of the remote runspace), runs it with
 * errors merged, and returns stdout, the error records as text and the exit code. Fixed text:
 * the script arrives as the block's argument.
 */
export const REMOTE_BLOCK = [
  '{ param($winfleetText)',
  'Set-ExecutionPolicy -Scope Process -ExecutionPolicy Bypass -Force;',
  "$f = Join-Path $env:TEMP ('winfleet-' + [guid]::NewGuid().ToString() + '.ps1');",
  '[IO.File]::WriteAllText($f, $winfleetText, (New-Object Text.UTF8Encoding $true));',
  '$o = New-Object Text.StringBuilder; $e = New-Object Text.StringBuilder;',
  '$global:LASTEXITCODE = 0; $failed = $false;',
  'try { & $f 2>&1 | ForEach-Object {',
  'if ($_ -is [Management.Automation.ErrorRecord]) { $failed = $true; [void]$e.Append(($_ | Out-String)) }',
  'else { [void]$o.Append(($_ | Out-String -Width 4096)) } } }',
  'catch { $failed = $true; [void]$e.Append(($_ | Out-String)) }',
  'finally { Remove-Item -LiteralPath $f -Force -ErrorAction SilentlyContinue };',
  '$code = if ($LASTEXITCODE) { $LASTEXITCODE } elseif ($failed) { 1 } else { 0 };',
  '[pscustomobject]@{ stdout = $o.ToString(); stderr = $e.ToString(); exitCode = [int]$code } }',
].join(' ');

/** `New-PSSession ...` for a target: credential, authentication, TLS and timeouts. */
export function newSessionExpression(target: SessionTarget, settings: SessionSettings): string {
  const parts = [
    'New-PSSession',
    `-ComputerName ${quoteLiteral(target.address)}`,
    `-Port ${portNumber(target.port)}`,
  ];
  const { auth } = settings;
  if (auth.type !== 'default') {
    parts.push(
      `-Credential (New-Object Management.Automation.PSCredential(${quoteLiteral(auth.user)}, ` +
        `(ConvertTo-SecureString ${base64Expression(auth.password)} -AsPlainText -Force)))`,
      `-Authentication ${AUTHENTICATION[auth.type]}`,
    );
  }
  if (settings.https) parts.push('-UseSSL');
  const timeoutMs = Math.max(1, Math.floor(settings.operationTimeoutMs));
  const skip = settings.skipCertificateChecks ? ' -SkipCACheck -SkipCNCheck' : '';
  parts.push(`-SessionOption (New-PSSessionOption -OperationTimeout ${timeoutMs}${skip})`);
  return parts.join(' ');
}

export interface InvocationPlan {
  target: SessionTarget;
  settings: SessionSettings;
  script: string;
  /** Session keys whose PSSessions this process should close first (its pool is full). */
  evictKeys?: readonly string[];
}

/**
 * One invocation: reuse the target's PSSession from the process's pool (or open one when it
 * is missing or broken), Invoke-Command the script in it, and print one line: the marker and
 * a JSON envelope, `{ok: true, stdout, stderr, exitCode}` or `{ok: false, error: {...}}`.
 */
export function invocationCommand(plan: InvocationPlan): string {
  const key = quoteLiteral(plan.target.key);
  const evictions = (plan.evictKeys ?? []).map((k) => removeSessionStatement(quoteLiteral(k)));
  return [
    "& { $ErrorActionPreference = 'Stop';",
    'if (-not $global:winfleetSessions) { $global:winfleetSessions = @{} };',
    ...evictions,
    `$k = ${key}; try { $s = $global:winfleetSessions[$k];`,
    "if ($s -and $s.State -ne 'Opened') { Remove-PSSession -Session $s -ErrorAction SilentlyContinue; $s = $null };",
    `if (-not $s) { $s = ${newSessionExpression(plan.target, plan.settings)}; $global:winfleetSessions[$k] = $s };`,
    `$r = Invoke-Command -Session $s -ArgumentList ${base64Expression(plan.script)} -ScriptBlock ${REMOTE_BLOCK};`,
    '$j = @{ ok = $true; stdout = [string]$r.stdout; stderr = [string]$r.stderr; exitCode = $r.exitCode } }',
    'catch { $x = $_.Exception; $j = @{ ok = $false; error = @{ type = $x.GetType().FullName; message = $x.Message;',
    "errorCode = $(if ($x.PSObject.Properties['ErrorCode']) { [int64]$x.ErrorCode } else { $null });",
    'errorId = $_.FullyQualifiedErrorId } } };',
    `'${RESULT_MARKER}' + (ConvertTo-Json -InputObject $j -Compress -Depth 4) }`,
  ].join(' ');
}

/** Closes every PSSession of the process (before it is disposed). */
export const CLOSE_ALL_COMMAND =
  'if ($global:winfleetSessions) { $global:winfleetSessions.Values | Remove-PSSession -ErrorAction SilentlyContinue; $global:winfleetSessions.Clear() }';

function removeSessionStatement(key: string): string {
  return (
    `if ($global:winfleetSessions[${key}]) { Remove-PSSession -Session $global:winfleetSessions[${key}] ` +
    `-ErrorAction SilentlyContinue; $global:winfleetSessions.Remove(${key}) };`
  );
}

function portNumber(port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new RangeError(`port must be an integer from 1 to 65535, got ${port}`);
  }
  return port;
}
