import { ROUTE_SCHEMAS } from '../lib/api-schemas.ts';
import { httpHandler } from '../lib/http.ts';
import { buildOpenApi } from '../lib/openapi.ts';

let document: Record<string, unknown> | undefined;

/** `GET /openapi.json`: the API as OpenAPI 3.1, generated from the zod schemas once. */
export const handler = httpHandler(ROUTE_SCHEMAS.openapi, async () => {
  document ??= buildOpenApi();
  return { statusCode: 200, body: document };
});
