import { z } from 'zod';
import { DeviceTarget } from './device.ts';
import { OperationId, OperationType, RateControl } from './operation.ts';
import { DeviceState } from './result.ts';
import { SiteId } from './site.ts';

/**
 * A device as a batch carries it: how to reach it, and the state the control plane last
 * recorded for it, so that a connector writes the device's state only when it changed.
 */
export const BatchDevice = DeviceTarget.extend({ lastStatus: DeviceState.optional() });
export type BatchDevice = z.infer<typeof BatchDevice>;

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
  /**
   * This site's share of the operation's `maxErrors`, as a device count: the connector stops
   * the site's devices once more than this many have failed. Absent: no share (older messages,
   * or no maxErrors), and the connector counts against the operation's whole limit.
   */
  siteMaxErrors: z.number().int().min(0).optional(),
  createdAt: z.string(),
  devices: z.array(BatchDevice).min(1),
});
export type BatchMessage = z.infer<typeof BatchMessage>;
