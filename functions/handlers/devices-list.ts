import { z } from 'zod';
import { SiteId } from '../../shared/schemas/index.ts';
import { decodeCursor, encodeCursor } from '../lib/cursor.ts';
import { DeviceKey, listDevicesPage } from '../lib/devices-store.ts';
import { httpHandler } from '../lib/http.ts';
import { CursorParam, limitParam } from '../lib/params.ts';

const Query = z.strictObject({
  siteId: SiteId.optional(),
  cursor: CursorParam.optional(),
  limit: limitParam(100),
});

/** `GET /devices[?siteId=]`: one page of registered devices. */
export const handler = httpHandler({ query: Query }, async ({ query }, { deps }) => {
  const page = await listDevicesPage(deps.doc, deps.env, {
    siteId: query.siteId,
    limit: query.limit,
    startKey: decodeCursor(query.cursor, DeviceKey),
  });
  return { statusCode: 200, body: { items: page.items, nextCursor: encodeCursor(page.lastKey) } };
});
