import type { MiddlewareObj } from '@middy/core';
import type { z } from 'zod';
import { ValidationError } from '../../errors.ts';
import type { ApiContext, ApiEvent, ApiRequest, ApiResult } from '../api-types.ts';

/** The schemas a route validates its input with; a missing one lets that part through. */
export interface RequestSchemas {
  body?: z.ZodType;
  path?: z.ZodType;
  query?: z.ZodType;
  /** The body's media type when it is text rather than JSON, such as `text/csv`. */
  bodyMediaType?: string;
  /** Largest body accepted, in bytes; default that of the body parser. */
  maxBodyBytes?: number;
}

type Output<S> = S extends z.ZodType ? z.output<S> : undefined;

/** A route's input after validation against its schemas. */
export interface RequestInput<S extends RequestSchemas> {
  body: Output<S['body']>;
  path: Output<S['path']>;
  query: Output<S['query']>;
}

/**
 * Validates the path parameters, the query string and the body (JSON, see `jsonBody`, or text,
 * see `textBody`) with zod and stores the parsed values in `context.input`. Failures are 400s
 * carrying zod's issues.
 */
export function validateRequest(
  schemas: RequestSchemas,
): MiddlewareObj<ApiEvent, ApiResult, Error, ApiContext> {
  return {
    name: 'validateRequest',
    before: (request: ApiRequest) => {
      const { event, context } = request;
      context.input = {
        path: check('path', schemas.path, event.pathParameters ?? {}),
        query: check('query', schemas.query, event.queryStringParameters ?? {}),
        body: check(
          'body',
          schemas.body,
          schemas.bodyMediaType ? context.textBody : context.jsonBody,
        ),
      };
    },
  };
}

function check(where: 'body' | 'path' | 'query', schema: z.ZodType | undefined, value: unknown) {
  if (!schema) return undefined;
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ValidationError(where, parsed.error.issues, parsed.error);
  return parsed.data;
}
