import { ConflictError, NotFoundError } from '../errors.ts';
import { ROUTE_SCHEMAS } from '../lib/api-schemas.ts';
import { httpHandler } from '../lib/http.ts';
import { cancelOperation, getOperation } from '../lib/operations-store.ts';

/**
 * `POST /operations/{id}/cancel`: marks a Pending or InProgress operation Cancelled (again
 * cancelling a cancelled one is a no-op); 409 when it already ended otherwise.
 */
export const handler = httpHandler(
  ROUTE_SCHEMAS['operations-cancel'],
  async ({ path }, { deps, logger }) => {
    const cancelled = await cancelOperation(deps.doc, deps.env, path.id, new Date().toISOString());
    const operation = await getOperation(deps.doc, deps.env, path.id);
    if (!operation) throw new NotFoundError('operation', path.id);
    if (!cancelled && operation.status !== 'Cancelled') {
      throw new ConflictError('OperationEnded', `operation ${path.id} already ended`, {
        details: { status: operation.status },
      });
    }
    logger.info({ operationId: path.id, cancelled }, 'operation cancelled');
    return { statusCode: 200, body: operation };
  },
);
