import type { MiddlewareObj } from '@middy/core';
import { PayloadTooLargeError, UnsupportedMediaTypeError } from '../../errors.ts';
import type { ApiContext, ApiEvent, ApiRequest, ApiResult } from '../api-types.ts';

export interface TextBodyOptions {
  /** The one media type accepted, such as `text/csv`. */
  mediaType: string;
  /** Largest body accepted, in bytes. */
  maxBodyBytes: number;
}

/**
 * Reads a text body of one media type (a CSV upload, say) into `context.textBody`, for routes
 * that take something other than JSON. A body of another media type is a 415, a larger one a
 * 413. An absent body leaves `context.textBody` undefined for the route's schema to refuse.
 */
export function textBody(
  options: TextBodyOptions,
): MiddlewareObj<ApiEvent, ApiResult, Error, ApiContext> {
  return {
    name: 'textBody',
    before: (request: ApiRequest) => {
      const { event, context } = request;
      if (event.body === undefined || event.body === '') return;
      checkMediaType(event.headers?.['content-type'], options.mediaType);
      // API Gateway base64-encodes bodies it does not take for text.
      const text = event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString('utf8')
        : event.body;
      const bytes = Buffer.byteLength(text, 'utf8');
      if (bytes > options.maxBodyBytes) {
        throw new PayloadTooLargeError(
          `the body has ${bytes} bytes; at most ${options.maxBodyBytes}`,
        );
      }
      context.textBody = text;
    },
  };
}

function checkMediaType(contentType: string | undefined, expected: string): void {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  if (mediaType === expected) return;
  throw new UnsupportedMediaTypeError(mediaType || 'no content type', expected);
}
