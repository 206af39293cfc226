import { ROUTE_SCHEMAS } from '../lib/api-schemas.ts';
import { createOperation } from '../lib/create-operation.ts';
import { httpHandler } from '../lib/http.ts';

/** `POST /operations`: resolves the targets, queues the batches and answers 202. */
export const handler = httpHandler(
  ROUTE_SCHEMAS['operations-create'],
  async ({ body }, { deps, logger }) => {
    const created = await createOperation(deps, body, { source: 'api', logger });
    return { statusCode: 202, body: created };
  },
);
