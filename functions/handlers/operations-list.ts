import { ROUTE_SCHEMAS } from '../lib/api-schemas.ts';
import { decodeCursor, encodeCursor } from '../lib/cursor.ts';
import { httpHandler } from '../lib/http.ts';
import { withProgress } from '../lib/operation-progress.ts';
import { listOperationsPage, OperationListKey } from '../lib/operations-store.ts';

/** `GET /operations`: one page of operations, newest first, each with its current counts. */
export const handler = httpHandler(
  ROUTE_SCHEMAS['operations-list'],
  async ({ query }, { deps }) => {
    const page = await listOperationsPage(deps.doc, deps.env, {
      limit: query.limit,
      startKey: decodeCursor(query.cursor, OperationListKey, {}),
    });
    const items = await Promise.all(page.items.map((operation) => withProgress(deps, operation)));
    return { statusCode: 200, body: { items, nextCursor: encodeCursor(page.lastKey, {}) } };
  },
);
