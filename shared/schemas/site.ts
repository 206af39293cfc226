import { z } from 'zod';

/** A site id is a slug: lower-case letters, digits and dashes. */
export const SiteId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a slug of lower-case letters, digits and dashes');

/**
 * One site, as in the seed's site configuration. Unknown keys are an error: a typo in a
 * config file must not be silently ignored.
 */
export const Site = z.strictObject({
  siteId: SiteId,
  name: z.string().min(1).max(200),
  /** Host name of the site's connector, or null when the control plane reaches devices directly. */
  relayAgent: z.string().min(1).nullable().default(null),
  directConnect: z.boolean().default(false),
  /** Seconds between deliveries of results held in the outbox while the cloud is unreachable. */
  syncInterval: z.number().int().positive().default(300),
  /** Whether batches queued while the connector was away still run when it returns. */
  queuedActions: z.boolean().default(true),
  /** Devices in flight at once across every operation at this site. */
  throttleLimit: z.number().int().min(1).max(1000).default(50),
  /** Default per-device timeout for operations at this site. */
  timeoutSeconds: z.number().int().min(1).max(86_400).default(300),
  transport: z.enum(['wsman', 'powershell']).default('wsman'),
});
export type Site = z.infer<typeof Site>;

export const SiteConfigFile = z.strictObject({ sites: z.array(Site).min(1) });
export type SiteConfigFile = z.infer<typeof SiteConfigFile>;
