/**
 * Errors of the connector service, classed by what the caller should do: fix the config,
 * dead-letter a batch, retry a delivery later, or report a device's result.
 */
export class ConnectorError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The config file is missing, unreadable or invalid; the process cannot start. */
export class ConnectorConfigError extends ConnectorError {
  constructor(
    message: string,
    readonly path: string,
    options?: ErrorOptions,
  ) {
    super(`${message} (config file ${path})`, options);
  }
}

/** An SQS message body is not a batch; the redrive policy dead-letters it after retries. */
export class MalformedBatchError extends ConnectorError {
  constructor(
    message: string,
    readonly messageId: string | undefined,
    options?: ErrorOptions,
  ) {
    super(`${message} (SQS message ${messageId ?? 'without id'})`, options);
  }
}

/** A result could not be delivered to DynamoDB; it stays in the outbox and is retried. */
export class DeliveryError extends ConnectorError {
  constructor(
    message: string,
    readonly operationId: string,
    readonly deviceId: string,
    options?: ErrorOptions,
  ) {
    super(`${message} (operation ${operationId}, device ${deviceId})`, options);
  }
}

/** The local archive failed; `code` is SQLite's error code when there is one. */
export class ArchiveError extends ConnectorError {
  readonly code: string | undefined;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = sqliteCode(options?.cause);
  }
}

function sqliteCode(cause: unknown): string | undefined {
  if (typeof cause !== 'object' || cause === null || !('code' in cause)) return undefined;
  return typeof cause.code === 'string' ? cause.code : undefined;
}
