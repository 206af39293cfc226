import type { MiddlewareObj } from '@middy/core';
import { BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../../errors.ts';
import type { ApiContext, ApiEvent, ApiRequest, ApiResult } from '../api-types.ts';

export interface JsonBodyOptions {
  /** Largest body accepted, in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
}

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/**
 * Parses a JSON body into `context.jsonBody`. Unlike `@middy/http-json-body-parser` (which
 * answers malformed JSON with 415), malformed JSON is a 400 here; a body of another media type
 * is a 415 and one over `maxBodyBytes` a 413.
 */
export function jsonBody(
  options: JsonBodyOptions = {},
): MiddlewareObj<ApiEvent, ApiResult, Error, ApiContext> {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return {
    name: 'jsonBody',
    before: (request: ApiRequest) => {
      const { event, context } = request;
      if (event.body === undefined || event.body === '') return;
      checkContentType(event.headers?.['content-type']);
      const text = event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString('utf8')
        : event.body;
      const bytes = Buffer.byteLength(text, 'utf8');
      if (bytes > maxBodyBytes) {
        throw new PayloadTooLargeError(`the body has ${bytes} bytes; at most ${maxBodyBytes}`);
      }
      context.jsonBody = parseJson(text);
    },
  };
}

function checkContentType(contentType: string | undefined): void {
  // A missing content type is read as JSON: curl without -H and most scripts send none.
  if (contentType === undefined) return;
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (mediaType === 'application/json' || mediaType.endsWith('+json')) return;
  throw new UnsupportedMediaTypeError(mediaType || 'an empty content type');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BadRequestError('MalformedJson', 'the body is not valid JSON', { cause: error });
  }
}
