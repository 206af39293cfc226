/**
 * Errors of the WS-Management client. Each carries a `kind` that tells the caller what to do:
 * `unreachable` (the device did not answer: result `Unreachable`), `auth` and `tls` (fix the
 * configuration; retrying will not help), `timeout` (connect or read), `fault` (the host
 * answered with a WS-Management fault) and `protocol` (the answer made no sense).
 */
export type WsmanErrorKind = 'unreachable' | 'auth' | 'tls' | 'timeout' | 'fault' | 'protocol';

export interface WsmanErrorContext {
  /** `address:port` of the device. */
  endpoint?: string;
  deviceId?: string;
  cause?: unknown;
}

export class WsmanError extends Error {
  readonly kind: WsmanErrorKind;
  readonly retryable: boolean;
  readonly endpoint: string | undefined;
  readonly deviceId: string | undefined;

  constructor(kind: WsmanErrorKind, retryable: boolean, message: string, ctx: WsmanErrorContext) {
    super(message, { cause: ctx.cause });
    this.name = 'WsmanError';
    this.kind = kind;
    this.retryable = retryable;
    this.endpoint = ctx.endpoint;
    this.deviceId = ctx.deviceId;
  }
}

/** The host answered 401: the credentials or the authentication method were refused. */
export class WsmanAuthError extends WsmanError {
  readonly authType: string;

  constructor(authType: string, message: string, ctx: WsmanErrorContext) {
    super('auth', false, message, ctx);
    this.name = 'WsmanAuthError';
    this.authType = authType;
  }
}

/** The TLS handshake failed: untrusted or expired certificate, wrong host name, bad client cert. */
export class WsmanTlsError extends WsmanError {
  readonly code: string | undefined;

  constructor(code: string | undefined, message: string, ctx: WsmanErrorContext) {
    super('tls', false, message, ctx);
    this.name = 'WsmanTlsError';
    this.code = code;
  }
}

/** No connection: refused, host or network unreachable, name not resolved. */
export class WsmanUnreachableError extends WsmanError {
  readonly code: string | undefined;

  constructor(code: string | undefined, message: string, ctx: WsmanErrorContext) {
    super('unreachable', true, message, ctx);
    this.name = 'WsmanUnreachableError';
    this.code = code;
  }
}

/**
 * A connect timeout (no TCP connection within the limit: the device counts as unreachable) or
 * a read timeout (connected, but no answer within the HTTP read timeout).
 */
export class WsmanTimeoutError extends WsmanError {
  readonly phase: 'connect' | 'read';
  readonly timeoutMs: number;

  constructor(phase: 'connect' | 'read', timeoutMs: number, ctx: WsmanErrorContext) {
    super(
      'timeout',
      true,
      `no ${phase === 'connect' ? 'connection' : 'answer'} from ${ctx.endpoint ?? 'device'} within ${timeoutMs} ms`,
      ctx,
    );
    this.name = 'WsmanTimeoutError';
    this.phase = phase;
    this.timeoutMs = timeoutMs;
  }
}

export interface WsmanFaultDetail {
  /** The WSManFault `Code` (or MSFT_WmiError `error_Code`), e.g. 2150858793. */
  code: number | undefined;
  /** The SOAP subcode, e.g. `w:TimedOut`. */
  subcode: string | undefined;
  /** The SOAP reason text. */
  reason: string | undefined;
  /** The detail's message (WSManFault `Message` or MSFT_WmiError `Message`). */
  wsmanMessage: string | undefined;
  /** The machine that raised the fault, when given. */
  machine: string | undefined;
}

/** The host answered with a SOAP fault. `code` is the WS-Management fault code when given. */
export class WsmanFaultError extends WsmanError {
  readonly code: number | undefined;
  readonly subcode: string | undefined;
  readonly reason: string | undefined;
  readonly wsmanMessage: string | undefined;
  readonly machine: string | undefined;
  /** The request action that drew the fault (Create, Command, Receive...). */
  readonly requestAction: string | undefined;
  readonly httpStatus: number | undefined;

  constructor(
    fault: WsmanFaultDetail,
    ctx: WsmanErrorContext & { requestAction?: string; httpStatus?: number },
  ) {
    const text = (fault.wsmanMessage ?? fault.reason ?? 'no message').trim();
    const where = ctx.requestAction ? ` on ${shortAction(ctx.requestAction)}` : '';
    super(
      'fault',
      false,
      `WS-Management fault ${fault.code ?? fault.subcode ?? '?'}${where}: ${text}`,
      ctx,
    );
    this.name = 'WsmanFaultError';
    this.code = fault.code;
    this.subcode = fault.subcode;
    this.reason = fault.reason;
    this.wsmanMessage = fault.wsmanMessage;
    this.machine = fault.machine;
    this.requestAction = ctx.requestAction;
    this.httpStatus = ctx.httpStatus;
  }
}

/** The answer was not what WS-Management allows: bad XML, unexpected status or shape. */
export class WsmanProtocolError extends WsmanError {
  readonly httpStatus: number | undefined;

  constructor(
    message: string,
    ctx: WsmanErrorContext & { httpStatus?: number; retryable?: boolean },
  ) {
    super('protocol', ctx.retryable ?? false, message, ctx);
    this.name = 'WsmanProtocolError';
    this.httpStatus = ctx.httpStatus;
  }
}

/** How the connector reports an error as a device result: unreachable (or connect timeout) or failed. */
export function resultStateForError(error: unknown): 'Unreachable' | 'Failed' {
  if (error instanceof WsmanUnreachableError) return 'Unreachable';
  if (error instanceof WsmanTimeoutError && error.phase === 'connect') return 'Unreachable';
  return 'Failed';
}

function shortAction(action: string): string {
  return action.slice(action.lastIndexOf('/') + 1);
}
