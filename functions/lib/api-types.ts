import type { Request } from '@middy/core';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import type { Logger } from '../../shared/logger.ts';

/** The Lambda context as the HTTP middlewares extend it for the handler. */
export interface ApiContext extends Context {
  /** A child logger bound to this request's ids. */
  logger?: Logger;
  /** The body parsed from JSON; undefined when there was none. */
  jsonBody?: unknown;
  /** The body as text, for a route that takes a text media type (see `textBody`). */
  textBody?: string;
  /** Path, query and body after validation against the route's schemas. */
  input?: { body: unknown; path: unknown; query: unknown };
}

export type ApiEvent = APIGatewayProxyEventV2;
export type ApiResult = APIGatewayProxyStructuredResultV2;
export type ApiRequest = Request<ApiEvent, ApiResult, Error, ApiContext>;

/** A JSON response. */
export function jsonResult(statusCode: number, body: unknown): ApiResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
  };
}
