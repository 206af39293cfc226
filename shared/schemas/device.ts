import { z } from 'zod';
import { SiteId } from './site.ts';

export const DeviceId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/, 'letters, digits, dots, dashes and underscores');

export const Tags = z.record(z.string().min(1).max(128), z.string().max(256));

/** One managed Windows machine. `deviceId` is the computer name in lower case. */
export const Device = z.strictObject({
  deviceId: DeviceId,
  computerName: z.string().min(1).max(255),
  /** Host name or IP address the connector dials. */
  address: z.string().min(1).max(255),
  port: z.number().int().min(1).max(65_535).default(5985),
  siteId: SiteId,
  tags: Tags.default({}),
});
export type Device = z.infer<typeof Device>;

/** The part of a device a batch carries: what the connector needs to reach it. */
export const DeviceTarget = Device.pick({
  deviceId: true,
  computerName: true,
  address: true,
  port: true,
});
export type DeviceTarget = z.infer<typeof DeviceTarget>;
