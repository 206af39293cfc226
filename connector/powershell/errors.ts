/**
 * Errors of the PowerShell transport. `kind` follows the WS-Management client's (`../wsman/
 * errors.ts`) so the runner classes both alike: `unreachable` (result `Unreachable`), `auth` and
 * `tls` (fix the configuration), `timeout`, `failed` (the device answered with an error) and
 * `protocol` (the local PowerShell answered something this transport did not write).
 */
export type PowerShellErrorKind =
  | 'unreachable'
  | 'auth'
  | 'tls'
  | 'timeout'
  | 'failed'
  | 'protocol'
  | 'unavailable';

export interface PowerShellErrorContext {
  deviceId?: string;
  cause?: unknown;
}

export class PowerShellTransportError extends Error {
  readonly kind: PowerShellErrorKind;
  readonly deviceId: string | undefined;

  constructor(kind: PowerShellErrorKind, message: string, ctx: PowerShellErrorContext = {}) {
    super(message, { cause: ctx.cause });
    this.name = new.target.name;
    this.kind = kind;
    this.deviceId = ctx.deviceId;
  }
}

/** What the local PowerShell reported about a failed New-PSSession or Invoke-Command. */
export interface RemotingFailure {
  /** .NET type of the exception, e.g. `...PSRemotingTransportException`. */
  type: string;
  message: string;
  /** The exception's ErrorCode (a Win32 or WinRM code), when it has one. */
  errorCode?: number | null | undefined;
  /** The error record's FullyQualifiedErrorId. */
  errorId?: string | null | undefined;
}

/** New-PSSession or Invoke-Command failed on the connector host; `kind` says how. */
export class PowerShellRemotingError extends PowerShellTransportError {
  readonly errorCode: number | undefined;
  readonly errorId: string | undefined;
  readonly exceptionType: string;

  constructor(failure: RemotingFailure, ctx: PowerShellErrorContext = {}) {
    super(classifyRemotingFailure(failure), `PowerShell remoting failed: ${failure.message}`, ctx);
    this.errorCode = failure.errorCode ?? undefined;
    this.errorId = failure.errorId ?? undefined;
    this.exceptionType = failure.type;
  }
}

/** No pwsh or powershell executable on the connector host. */
export class PowerShellUnavailableError extends PowerShellTransportError {
  constructor(executable: string, ctx: PowerShellErrorContext = {}) {
    super(
      'unavailable',
      `the PowerShell transport needs '${executable}' on PATH (set transport.executable, or use transport.type 'wsman')`,
      ctx,
    );
  }
}

// Win32 and WinRM codes carried by PSRemotingTransportException.ErrorCode.
const ACCESS_DENIED = 5;
const UNREACHABLE_CODES = new Set([
  53, // ERROR_BAD_NETPATH
  1722, // RPC_S_SERVER_UNAVAILABLE
  -2144108250, // 0x80338126 ERROR_WINRS_CONNECT_ERROR: the client cannot connect
  -2144108526, // 0x80338012: the client cannot connect to the destination
]);
const TLS_CODES = new Set([12175, 12045, 12038]); // WinHTTP certificate errors

/** Classes a remoting failure by its error code first, then by its message. */
export function classifyRemotingFailure(failure: RemotingFailure): PowerShellErrorKind {
  const code = failure.errorCode ?? undefined;
  const text = `${failure.message} ${failure.errorId ?? ''}`;
  if (code === ACCESS_DENIED || /access is denied|logon failure|AccessDenied/i.test(text)) {
    return 'auth';
  }
  if (code !== undefined && TLS_CODES.has(code)) return 'tls';
  if (code !== undefined && UNREACHABLE_CODES.has(code)) return 'unreachable';
  if (/certificate|\bSSL\b/i.test(text)) return 'tls';
  if (
    /cannot connect to the destination|computer is accessible over the network|network path was not found|no such host/i.test(
      text,
    )
  ) {
    return 'unreachable';
  }
  if (/timed out|timeout/i.test(text)) return 'timeout';
  return 'failed';
}
