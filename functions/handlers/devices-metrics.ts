import { BadRequestError, NotFoundError } from '../errors.ts';
import { ROUTE_SCHEMAS } from '../lib/api-schemas.ts';
import { decodeCursor, encodeCursor } from '../lib/cursor.ts';
import { getDevices } from '../lib/devices-store.ts';
import { httpHandler } from '../lib/http.ts';
import {
  listMetricsPage,
  MetricKey,
  type MetricsQuery,
  startKeyFits,
} from '../lib/metrics-store.ts';

/** The window when the query names no `from`, in milliseconds. */
const DEFAULT_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * `GET /devices/{id}/metrics[?from=][&to=]`: one page of a device's status metrics, from its
 * own partition and from its current site's batch items (points taken while it belonged to
 * another site are not found).
 */
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
    const [device] = await getDevices(deps.doc, deps.env, [path.id]);
    if (!device) throw new NotFoundError('device', path.id);
    const scope = { deviceId: device.deviceId, from: query.from, to: query.to };
    const request: MetricsQuery = {
      deviceId: device.deviceId,
      siteId: device.siteId,
      fromIso,
      toIso,
      limit: query.limit,
      startKey: decodeCursor(query.cursor, MetricKey, scope),
    };
    if (request.startKey && !startKeyFits(request, request.startKey)) {
      throw new BadRequestError('InvalidCursor', 'the cursor belongs to another query');
    }
    const page = await listMetricsPage(deps.doc, deps.env, request);
    return {
      statusCode: 200,
      body: { items: page.items, nextCursor: encodeCursor(page.lastKey, scope) },
    };
  },
);
