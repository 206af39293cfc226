import { decideOperationStatus } from '../../shared/operation-outcome.ts';
import type { Operation } from '../../shared/schemas/index.ts';
import { NotFoundError } from '../errors.ts';
import { ROUTE_SCHEMAS } from '../lib/api-schemas.ts';
import { httpHandler } from '../lib/http.ts';
import { getOperation } from '../lib/operations-store.ts';

/** `GET /operations/{id}`: the operation with its per-state counts. */
export const handler = httpHandler(ROUTE_SCHEMAS['operations-get'], async ({ path }, { deps }) => {
  const operation = await getOperation(deps.doc, deps.env, path.id);
  if (!operation) throw new NotFoundError('operation', path.id);
  return { statusCode: 200, body: withCurrentStatus(operation) };
});

/**
 * Connectors add to `counts` as results arrive; the stored status may lag behind the last of
 * them, so once every device has a final result the status is decided from the counts.
 */
function withCurrentStatus(operation: Operation): Operation {
  const open = operation.status === 'Pending' || operation.status === 'InProgress';
  if (!open || operation.done < operation.total) return operation;
  return { ...operation, status: decideOperationStatus(operation.counts, operation.total) };
}
