import { BadRequestError, NotFoundError } from '../errors.ts';
import { ROUTE_SCHEMAS } from '../lib/api-schemas.ts';
import { decodeCursor, encodeCursor } from '../lib/cursor.ts';
import { httpHandler } from '../lib/http.ts';
import { getOperation } from '../lib/operations-store.ts';
import { listResultsPage, ResultKey } from '../lib/results-store.ts';

/** `GET /operations/{id}/results`: one page of device results, optionally of one state. */
export const handler = httpHandler(
  ROUTE_SCHEMAS['operations-results'],
  async ({ path, query }, { deps }) => {
    const scope = { operationId: path.id, status: query.status };
    const startKey = decodeCursor(query.cursor, ResultKey, scope);
    if (startKey && startKey.operationId !== path.id) {
      throw new BadRequestError('InvalidCursor', 'the cursor belongs to another operation');
    }
    const operation = await getOperation(deps.doc, deps.env, path.id);
    if (!operation) throw new NotFoundError('operation', path.id);
    const page = await listResultsPage(deps.doc, deps.env, {
      operationId: path.id,
      status: query.status,
      limit: query.limit,
      startKey,
    });
    return {
      statusCode: 200,
      body: { items: page.items, nextCursor: encodeCursor(page.lastKey, scope) },
    };
  },
);
