/**
 * Errors of the control plane's handlers. Each one knows the HTTP status it answers with; an
 * error that is not an `ApiError` is a fault of ours and answers 500 without its text.
 */
export interface ApiErrorOptions {
  details?: unknown;
  cause?: unknown;
}

/** An error the caller can act on: its code, message and details are sent in the response. */
export class ApiError extends Error {
  override readonly name: string = 'ApiError';
  readonly details: unknown;

  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    options: ApiErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.details = options.details;
  }
}

/** 400: the request is malformed (bad JSON, wrong types, unknown keys, a bad cursor). */
export class BadRequestError extends ApiError {
  override readonly name: string = 'BadRequestError';
  constructor(code: string, message: string, options?: ApiErrorOptions) {
    super(400, code, message, options);
  }
}

/** 400: the request parsed but failed its schema; `details` holds the zod issues. */
export class ValidationError extends BadRequestError {
  override readonly name: string = 'ValidationError';
  constructor(where: 'body' | 'path' | 'query', issues: unknown, cause?: unknown) {
    super('ValidationFailed', `the request ${where} does not match the schema`, {
      details: issues,
      cause,
    });
  }
}

/** 404: the resource named in the path does not exist. */
export class NotFoundError extends ApiError {
  override readonly name: string = 'NotFoundError';
  constructor(resource: string, id: string) {
    super(404, 'NotFound', `${resource} ${id} does not exist`, { details: { resource, id } });
  }
}

/** 409: the resource is in a state that forbids the request. */
export class ConflictError extends ApiError {
  override readonly name: string = 'ConflictError';
  constructor(code: string, message: string, options?: ApiErrorOptions) {
    super(409, code, message, options);
  }
}

/**
 * 409: sites the request names have no queue yet, so no connector could receive their batches
 * (in AWS the CDK stack has not deployed them; locally no connector runs for them).
 */
export class SiteNotDeployedError extends ConflictError {
  override readonly name: string = 'SiteNotDeployedError';
  constructor(
    readonly siteIds: readonly string[],
    queueNames: readonly string[],
  ) {
    super(
      'SiteNotDeployed',
      `${siteIds.length} target sites have no queue: ${siteIds.join(', ')}`,
      {
        details: {
          siteIds,
          queueNames,
          action:
            'deploy the sites (add them to the sites configuration and deploy the stack, or ' +
            'restart the local stack with them), or leave them out of the targets',
        },
      },
    );
  }
}

/** 413: the body or a message built from it exceeds a size limit. */
export class PayloadTooLargeError extends ApiError {
  override readonly name: string = 'PayloadTooLargeError';
  constructor(message: string, options?: ApiErrorOptions) {
    super(413, 'PayloadTooLarge', message, options);
  }
}

/** 415: the body is not of the media type the route takes (JSON unless it says otherwise). */
export class UnsupportedMediaTypeError extends ApiError {
  override readonly name: string = 'UnsupportedMediaTypeError';
  constructor(contentType: string, expected = 'application/json') {
    super(415, 'UnsupportedMediaType', `expected ${expected}, got ${contentType}`);
  }
}

/** 422: the request is well formed but its targets match no device. */
export class NoTargetsError extends ApiError {
  override readonly name: string = 'NoTargetsError';
  constructor(message: string, options?: ApiErrorOptions) {
    super(422, 'NoMatchingDevices', message, options);
  }
}

/** 503: batches could not be queued; the operation is marked Failed and may be resubmitted. */
export class DispatchError extends ApiError {
  override readonly name: string = 'DispatchError';
  constructor(
    readonly operationId: string,
    readonly failedBatchIds: readonly string[],
    cause?: unknown,
  ) {
    super(503, 'DispatchFailed', `operation ${operationId} could not be queued; retry later`, {
      details: { operationId, failedBatches: failedBatchIds.length },
      cause,
    });
  }
}

/** A stored item that does not match its schema: a fault of the writer, answered as 500. */
export class CorruptItemError extends Error {
  override readonly name: string = 'CorruptItemError';
  constructor(
    readonly table: string,
    readonly key: string,
    cause: unknown,
  ) {
    super(`item ${key} in table ${table} does not match its schema`, { cause });
  }
}
