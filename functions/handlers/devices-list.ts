import { ROUTE_SCHEMAS } from '../lib/api-schemas.ts';
import { decodeCursor, encodeCursor } from '../lib/cursor.ts';
import { DeviceKey, listDevicesPage } from '../lib/devices-store.ts';
import { httpHandler } from '../lib/http.ts';

/** `GET /devices[?siteId=][&status=]`: one page of registered devices. */
export const handler = httpHandler(ROUTE_SCHEMAS['devices-list'], async ({ query }, { deps }) => {
  const scope = { siteId: query.siteId, status: query.status };
  const page = await listDevicesPage(deps.doc, deps.env, {
    siteId: query.siteId,
    status: query.status,
    limit: query.limit,
    startKey: decodeCursor(query.cursor, DeviceKey, scope),
  });
  return {
    statusCode: 200,
    body: { items: page.items, nextCursor: encodeCursor(page.lastKey, scope) },
  };
});
