import { ROUTE_SCHEMAS } from '../lib/api-schemas.ts';
import { httpHandler } from '../lib/http.ts';
import { siteQueueDepth } from '../lib/site-health.ts';
import { listSites } from '../lib/sites-store.ts';

/** `GET /sites`: every site with its connector's last known health and its queue's depth. */
export const handler = httpHandler(
  ROUTE_SCHEMAS['sites-list'],
  async (_input, { deps, logger }) => {
    const sites = await listSites(deps.doc, deps.env);
    const items = await Promise.all(
      sites.map(async (site) => ({
        ...site,
        ...(await siteQueueDepth(deps.sqs, deps.env, site.siteId, logger)),
      })),
    );
    return { statusCode: 200, body: { items } };
  },
);
