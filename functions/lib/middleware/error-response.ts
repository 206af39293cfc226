import type { MiddlewareObj } from '@middy/core';
import type { Logger } from '../../../shared/logger.ts';
import { ApiError } from '../../errors.ts';
import {
  type ApiContext,
  type ApiEvent,
  type ApiRequest,
  type ApiResult,
  jsonResult,
} from '../api-types.ts';

/**
 * Turns every error into `{error: {code, message, details?}}`. An `ApiError` answers with its
 * own status (logged at warn); anything else is our fault: 500 (or 504 on middy's early
 * timeout), logged at error, and its text never leaves the function.
 */
export function errorResponse(
  fallbackLogger: () => Logger,
): MiddlewareObj<ApiEvent, ApiResult, Error, ApiContext> {
  return {
    name: 'errorResponse',
    onError: (request: ApiRequest) => {
      const { error, context } = request;
      const logger = context.logger ?? fallbackLogger();
      if (error instanceof ApiError) {
        logger.warn(
          { statusCode: error.statusCode, code: error.code, err: error },
          'request refused',
        );
        request.response = jsonResult(error.statusCode, { error: describe(error) });
        return;
      }
      logger.error({ err: error }, 'request failed');
      request.response = faultResponse(error, context.awsRequestId);
    },
  };
}

function describe(error: ApiError) {
  return error.details === undefined
    ? { code: error.code, message: error.message }
    : { code: error.code, message: error.message, details: error.details };
}

function faultResponse(error: Error | null, awsRequestId: string): ApiResult {
  if (error?.name === 'TimeoutError') {
    return jsonResult(504, {
      error: { code: 'Timeout', message: `the request timed out (request ${awsRequestId})` },
    });
  }
  return jsonResult(500, {
    error: {
      code: 'InternalError',
      message: `an internal error occurred (request ${awsRequestId})`,
    },
  });
}
