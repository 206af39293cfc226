import middy from '@middy/core';
import type { Logger } from '../../shared/logger.ts';
import type { ApiContext, ApiEvent, ApiResult } from './api-types.ts';
import { jsonResult } from './api-types.ts';
import { type Deps, getDeps } from './deps.ts';
import { errorResponse } from './middleware/error-response.ts';
import { jsonBody } from './middleware/json-body.ts';
import { requestLogger } from './middleware/request-logger.ts';
import { textBody } from './middleware/text-body.ts';
import {
  type RequestInput,
  type RequestSchemas,
  validateRequest,
} from './middleware/validate-request.ts';

/** What a route function returns: a status code and a body to send as JSON. */
export interface RouteResult {
  statusCode: number;
  body: unknown;
}

/** What a route function receives besides its input. */
export interface RouteScope {
  deps: Deps;
  logger: Logger;
  event: ApiEvent;
}

export type RouteFn<S extends RequestSchemas> = (
  input: RequestInput<S>,
  scope: RouteScope,
) => Promise<RouteResult>;

/**
 * A Lambda handler for one HTTP API (payload v2) route: request logging, body parsing (JSON,
 * or text when the schemas name a `bodyMediaType`), zod validation of path, query and body,
 * and JSON error responses around `route`.
 */
export function httpHandler<S extends RequestSchemas>(schemas: S, route: RouteFn<S>) {
  const baseLogger = () => getDeps().logger;
  return middy<ApiEvent, ApiResult, Error, ApiContext>()
    .use(requestLogger(baseLogger))
    .use(errorResponse(baseLogger))
    .use(bodyParser(schemas))
    .use(validateRequest(schemas))
    .handler(async (event, context) => {
      const deps = getDeps();
      const logger = context.logger ?? deps.logger;
      // validateRequest parsed context.input with these same schemas.
      const input = context.input as RequestInput<S>;
      const result = await route(input, { deps, logger, event });
      return jsonResult(result.statusCode, result.body);
    });
}

function bodyParser(schemas: RequestSchemas) {
  const { bodyMediaType, maxBodyBytes } = schemas;
  if (bodyMediaType) {
    return textBody({ mediaType: bodyMediaType, maxBodyBytes: maxBodyBytes ?? 1024 * 1024 });
  }
  return jsonBody({ maxBodyBytes });
}
