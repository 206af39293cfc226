import { Device } from '../../shared/schemas/index.ts';
import { BadRequestError } from '../errors.ts';
import { ROUTE_SCHEMAS } from '../lib/api-schemas.ts';
import { putDevice } from '../lib/devices-store.ts';
import { httpHandler } from '../lib/http.ts';
import { getSite } from '../lib/sites-store.ts';

/** `PUT /devices/{id}`: registers or replaces a device of a registered site. */
export const handler = httpHandler(
  ROUTE_SCHEMAS['devices-put'],
  async ({ path, body }, { deps, logger }) => {
    if (body.deviceId !== undefined && body.deviceId !== path.id) {
      throw new BadRequestError(
        'IdMismatch',
        `the body names device ${body.deviceId}, the path ${path.id}`,
      );
    }
    if (!(await getSite(deps.doc, deps.env, body.siteId))) {
      throw new BadRequestError('UnknownSite', `site ${body.siteId} is not registered`, {
        details: { siteId: body.siteId },
      });
    }
    const device = Device.parse({ ...body, deviceId: path.id });
    await putDevice(deps.doc, deps.env, device);
    logger.info({ deviceId: device.deviceId, siteId: device.siteId }, 'device registered');
    return { statusCode: 200, body: device };
  },
);
