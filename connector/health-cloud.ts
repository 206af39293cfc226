// @smithy/types is the SDK's own type package (a dependency of every client).
import type { InitializeMiddleware, MiddlewareStack } from '@smithy/types';

export interface CloudContactListener {
  /** SQS or DynamoDB answered, with success or a service error. */
  answered(): void;
  /** No answer at all: connection refused or reset, DNS, timeout. */
  unreachable(): void;
}

/**
 * Reports the outcome of every call `client` makes (after the SDK's own retries), so the
 * connector knows when it last reached the cloud without wrapping each call site.
 */
export function watchCloudClient<I extends object, O extends object>(
  client: { middlewareStack: MiddlewareStack<I, O> },
  listener: CloudContactListener,
): void {
  const middleware: InitializeMiddleware<I, O> = (next) => async (args) => {
    try {
      const output = await next(args);
      listener.answered();
      return output;
    } catch (error) {
      if (hasHttpStatus(error)) listener.answered();
      else if (!isAbort(error)) listener.unreachable();
      throw error;
    }
  };
  client.middlewareStack.add(middleware, {
    step: 'initialize',
    name: 'winfleetCloudContact',
    override: true,
  });
}

/** A service error carries the HTTP status the cloud answered with. */
function hasHttpStatus(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || !('$metadata' in error)) return false;
  const metadata = error.$metadata;
  return typeof metadata === 'object' && metadata !== null && 'httpStatusCode' in metadata
    ? typeof metadata.httpStatusCode === 'number'
    : false;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}
