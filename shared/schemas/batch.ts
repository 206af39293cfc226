import { z } from 'zod';
import { DeviceTarget } from './device.ts';
import { OperationId, OperationType, RateControl } from './operation.ts';
import { SiteId } from './site.ts';

/** One SQS message: an operation's slice of devices at one site. */
export const BatchMessage = z.strictObject({
  version: z.literal(1),
  operationId: OperationId,
  batchId: z.string().min(1).max(80),
  siteId: SiteId,
  type: OperationType,
  parameters: z.record(z.string(), z.unknown()).default({}),
  rateControl: RateControl.default({}),
  force: z.boolean().default(false),
  /** Devices in the operation at every site, for percentage-based maxErrors. */
  operationTotal: z.number().int().min(1),
  createdAt: z.string(),
  devices: z.array(DeviceTarget).min(1),
});
export type BatchMessage = z.infer<typeof BatchMessage>;
