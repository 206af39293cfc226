import { Site } from '../../shared/schemas/index.ts';
import { BadRequestError } from '../errors.ts';
import { ROUTE_SCHEMAS } from '../lib/api-schemas.ts';
import { httpHandler } from '../lib/http.ts';
import { putSite } from '../lib/sites-store.ts';

/**
 * `PUT /sites/{id}`: registers or replaces a site's configuration, validated by the seed's
 * schema. The site's queue is infrastructure: CDK creates it from the sites configuration.
 */
export const handler = httpHandler(
  ROUTE_SCHEMAS['sites-put'],
  async ({ path, body }, { deps, logger }) => {
    if (body.siteId !== undefined && body.siteId !== path.id) {
      throw new BadRequestError(
        'IdMismatch',
        `the body names site ${body.siteId}, the path ${path.id}`,
      );
    }
    const site = Site.parse({ ...body, siteId: path.id });
    await putSite(deps.doc, deps.env, site);
    logger.info({ siteId: site.siteId }, 'site registered');
    return { statusCode: 200, body: site };
  },
);
