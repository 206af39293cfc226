import { z } from 'zod';
import { DeviceId, Tags } from './device.ts';
import { SiteId } from './site.ts';

export const OperationType = z.enum(['status', 'inventory', 'script', 'service']);
export type OperationType = z.infer<typeof OperationType>;

export const Targets = z.union([
  z.strictObject({ all: z.literal(true) }),
  z.strictObject({ siteIds: z.array(SiteId).min(1).max(1000) }),
  z.strictObject({ deviceIds: z.array(DeviceId).min(1).max(10_000) }),
  z.strictObject({ tags: Tags.refine((t) => Object.keys(t).length > 0, 'at least one tag') }),
]);
export type Targets = z.infer<typeof Targets>;

/** A count of devices, or a percentage of the operation's devices such as "10%". */
export const MaxErrors = z.union([
  z.number().int().min(0),
  z.string().regex(/^(100|[1-9]?[0-9])%$/, 'a percentage from 0% to 100%'),
]);

export const RateControl = z.strictObject({
  throttleLimit: z.number().int().min(1).max(1000).optional(),
  maxErrors: MaxErrors.optional(),
  timeoutSeconds: z.number().int().min(1).max(86_400).optional(),
});
export type RateControl = z.infer<typeof RateControl>;

export const ScriptParameters = z.strictObject({
  script: z.string().min(1).max(200_000),
  arguments: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});

export const ServiceParameters = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.\- $]{1,256}$/, 'a Windows service name'),
  action: z.enum(['start', 'stop', 'restart']),
});

const base = {
  targets: Targets,
  rateControl: RateControl.optional(),
  force: z.boolean().optional(),
};

/** The body of `POST /operations`. */
export const OperationRequest = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('status'), ...base, parameters: z.strictObject({}).optional() }),
  z.strictObject({
    type: z.literal('inventory'),
    ...base,
    parameters: z.strictObject({}).optional(),
  }),
  z.strictObject({ type: z.literal('script'), ...base, parameters: ScriptParameters }),
  z.strictObject({ type: z.literal('service'), ...base, parameters: ServiceParameters }),
]);
export type OperationRequest = z.infer<typeof OperationRequest>;

export const OperationStatus = z.enum([
  'Pending',
  'InProgress',
  'Success',
  'CompletedWithErrors',
  'Failed',
  'Cancelled',
]);
export type OperationStatus = z.infer<typeof OperationStatus>;

export const OperationId = z.string().regex(/^op-[0-9a-z]{10,40}$/, 'an id like op-...');

/** A site left out of an `all` or `tags` operation, and its devices. */
export const SkippedSite = z.object({
  siteId: SiteId,
  /** Why: `SiteNotDeployed` when the site has no queue (no connector can receive its work). */
  reason: z.string(),
  devices: z.number().int().min(0),
});
export type SkippedSite = z.infer<typeof SkippedSite>;

/** An operation as stored and as returned by `GET /operations/{id}`. */
export const Operation = z.object({
  operationId: OperationId,
  type: OperationType,
  status: OperationStatus,
  targets: Targets,
  parameters: z.record(z.string(), z.unknown()).optional(),
  rateControl: RateControl.optional(),
  force: z.boolean().optional(),
  total: z.number().int().min(0),
  done: z.number().int().min(0),
  counts: z.record(z.string(), z.number().int()),
  siteIds: z.array(SiteId),
  batchCount: z.number().int().min(0),
  createdAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().optional(),
  source: z.enum(['api', 'schedule']),
  /** Sites of the targets whose devices were left out when the operation was created. */
  skipped: z.array(SkippedSite).optional(),
  /** What went wrong outside any one device, e.g. batches that could not be queued. */
  error: z.string().optional(),
});
export type Operation = z.infer<typeof Operation>;
