import type { MiddlewareObj } from '@middy/core';
import type { Logger } from '../../../shared/logger.ts';
import type { ApiContext, ApiEvent, ApiRequest, ApiResult } from '../api-types.ts';

/**
 * Binds a child logger with the request's ids to `context.logger`, and logs each response at
 * debug with its status code (failures are logged by errorResponse).
 */
export function requestLogger(
  base: () => Logger,
): MiddlewareObj<ApiEvent, ApiResult, Error, ApiContext> {
  return {
    name: 'requestLogger',
    before: (request: ApiRequest) => {
      const { event, context } = request;
      context.logger = base().child({
        requestId: event.requestContext?.requestId,
        awsRequestId: context.awsRequestId,
        routeKey: event.routeKey,
      });
    },
    after: (request: ApiRequest) => {
      request.context.logger?.debug({ statusCode: request.response?.statusCode }, 'request served');
    },
  };
}
