import { BadRequestError, NotFoundError } from '../errors.ts';
import { ROUTE_SCHEMAS } from '../lib/api-schemas.ts';
import { decodeCursor, encodeCursor } from '../lib/cursor.ts';
import { getDevices } from '../lib/devices-store.ts';
import { httpHandler } from '../lib/http.ts';
import { listMetricsPage, MetricKey } from '../lib/metrics-store.ts';

/** The window when the query names no `from`, in milliseconds. */
const DEFAULT_WINDOW_MS = 24 * 60 * 60 * 1000;

/** `GET /devices/{id}/metrics[?from=][&to=]`: one page of a device's status metrics. */
export const handler = httpHandler(
  ROUTE_SCHEMAS['devices-metrics'],
  async ({ path, query }, { deps }) => {
    const toMs = query.to ? Date.parse(query.to) : Date.now();
    const fromMs = query.from ? Date.parse(query.from) : toMs - DEFAULT_WINDOW_MS;
    if (fromMs > toMs) {
      throw new BadRequestError('InvalidRange', `from ${query.from} is after to ${query.to}`);
    }
    const fromIso = new Date(fromMs).toISOString();
    const toIso = new Date(toMs).toISOString();
    const startKey = decodeCursor(query.cursor, MetricKey);
    if (startKey && (startKey.deviceId !== path.id || !inRange(startKey, fromIso, toIso))) {
      throw new BadRequestError('InvalidCursor', 'the cursor belongs to another query');
    }
    if ((await getDevices(deps.doc, deps.env, [path.id])).length === 0) {
      throw new NotFoundError('device', path.id);
    }
    const page = await listMetricsPage(deps.doc, deps.env, {
      deviceId: path.id,
      fromIso,
      toIso,
      limit: query.limit,
      startKey,
    });
    return { statusCode: 200, body: { items: page.items, nextCursor: encodeCursor(page.lastKey) } };
  },
);

function inRange(key: MetricKey, fromIso: string, toIso: string): boolean {
  return key.timestamp >= fromIso && key.timestamp <= toIso;
}
