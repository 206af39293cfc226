import { ROUTE_SCHEMAS } from '../lib/api-schemas.ts';
import { httpHandler } from '../lib/http.ts';
import { listSites } from '../lib/sites-store.ts';

/** `GET /sites`: every site with its connector's last known health. */
export const handler = httpHandler(ROUTE_SCHEMAS['sites-list'], async (_input, { deps }) => {
  const sites = await listSites(deps.doc, deps.env);
  return { statusCode: 200, body: { items: sites } };
});
