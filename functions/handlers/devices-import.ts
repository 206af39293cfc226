import { BadRequestError } from '../errors.ts';
import { ROUTE_SCHEMAS } from '../lib/api-schemas.ts';
import { parseDeviceCsv } from '../lib/device-csv.ts';
import { upsertDevices } from '../lib/devices-store.ts';
import { httpHandler } from '../lib/http.ts';
import { listSites } from '../lib/sites-store.ts';

/**
 * `POST /devices/import[?siteId=]` with a `text/csv` body: registers or replaces every device
 * of the file, or none when any row is invalid or names an unknown site.
 */
export const handler = httpHandler(
  ROUTE_SCHEMAS['devices-import'],
  async ({ query, body }, { deps, logger }) => {
    const csv = parseDeviceCsv(body, { siteId: query.siteId });
    if (csv.problems.length > 0) {
      throw new BadRequestError(
        'InvalidRows',
        `${csv.problems.length} rows cannot be imported; nothing was written`,
        { details: { rows: csv.problems.slice(0, 100) } },
      );
    }
    const known = new Set((await listSites(deps.doc, deps.env)).map((site) => site.siteId));
    const unknown = [...new Set(csv.devices.map((d) => d.siteId))].filter((s) => !known.has(s));
    if (unknown.length > 0) {
      throw new BadRequestError('UnknownSite', `sites ${unknown.join(', ')} are not registered`, {
        details: { siteIds: unknown },
      });
    }
    const counts = await upsertDevices(deps.doc, deps.env, csv.devices);
    const summary = { imported: csv.devices.length, ...counts, skipped: csv.skipped };
    logger.info(summary, 'devices imported');
    return { statusCode: 200, body: summary };
  },
);
