import { NotFoundError } from '../errors.ts';
import { ROUTE_SCHEMAS } from '../lib/api-schemas.ts';
import { httpHandler } from '../lib/http.ts';
import { withProgress } from '../lib/operation-progress.ts';
import { getOperation } from '../lib/operations-store.ts';

/** `GET /operations/{id}`: the operation with its per-state counts. */
export const handler = httpHandler(ROUTE_SCHEMAS['operations-get'], async ({ path }, { deps }) => {
  const operation = await getOperation(deps.doc, deps.env, path.id);
  if (!operation) throw new NotFoundError('operation', path.id);
  return { statusCode: 200, body: await withProgress(deps, operation) };
});
