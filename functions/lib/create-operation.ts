import type { Logger } from '../../shared/logger.ts';
import { QUEUE_SETTINGS, siteQueueName } from '../../shared/queues.ts';
import type {
  BatchDevice,
  Operation,
  OperationRequest,
  OperationStatus,
  SkippedSite,
  Targets,
} from '../../shared/schemas/index.ts';
import { SiteNotDeployedError } from '../errors.ts';
import type { Deps } from './deps.ts';
import type { DeviceItem } from './devices-store.ts';
import { putDispatchPlan } from './dispatch-plan.ts';
import { triggerDispatch } from './dispatch-trigger.ts';
import { newOperationId } from './operation-id.ts';
import { putOperation, transitionOperation } from './operations-store.ts';
import { planBatches } from './plan-batches.ts';
import { resolveTargets } from './resolve-targets.ts';
import { findUndeployedSites } from './site-queues.ts';

/** What `POST /operations` answers with (202). */
export interface CreatedOperation {
  operationId: string;
  status: OperationStatus;
  total: number;
  siteIds: string[];
  batchCount: number;
  /** Sites left out of an `all` or `tags` operation because they have no queue. */
  skipped?: SkippedSite[];
}

/**
 * Starts an operation, for the API and for scheduled sweeps alike: resolves the targets (so
 * that bad targets answer 4xx at once), cuts them into batches, records the operation as
 * Pending with its frozen dispatch plan, and starts the dispatch asynchronously
 * (dispatch-trigger.ts): the caller does not wait for the batches to be queued. If the
 * dispatch cannot even be started the operation is marked Failed and DispatchError (503)
 * is thrown.
 */
export async function createOperation(
  deps: Deps,
  request: OperationRequest,
  options: { source: Operation['source']; logger: Logger; now?: Date },
): Promise<CreatedOperation> {
  const devices = await resolveTargets(deps, request.targets);
  const { devicesBySite, skipped } = await leaveOutUndeployed(
    deps,
    request.targets,
    groupBySite(devices),
  );
  const total = [...devicesBySite.values()].reduce((n, list) => n + list.length, 0);
  const operation = newOperation(request, total, [...devicesBySite.keys()], options);
  if (skipped.length > 0) operation.skipped = skipped;
  const logger = options.logger.child({ operationId: operation.operationId });
  const batches = planBatches(operation, devicesBySite, QUEUE_SETTINGS);
  operation.batchCount = batches.length;

  await putOperation(deps.doc, deps.env, operation);
  await putDispatchPlan(deps.doc, deps.env, operation.operationId, batches);
  try {
    await triggerDispatch(deps, operation.operationId, logger);
  } catch (error) {
    await failOperation(deps, operation);
    throw error;
  }
  if (skipped.length > 0) logger.warn({ skipped }, 'undeployed sites left out');
  logger.info({ total: operation.total, batchCount: batches.length }, 'operation created');
  return {
    operationId: operation.operationId,
    status: operation.status,
    total: operation.total,
    siteIds: operation.siteIds,
    batchCount: operation.batchCount,
    ...(skipped.length > 0 ? { skipped } : {}),
  };
}

/**
 * Checks, before anything is recorded, that every target site has a queue (GetQueueUrl,
 * cached briefly): a batch for a site without one could never be received, and the operation
 * would run half-way. Targets that name sites or devices explicitly are refused with
 * SiteNotDeployedError (409) if any of their sites lacks a queue; `all` and `tags` leave the
 * devices of such sites out and report them as skipped, unless no site is left.
 */
async function leaveOutUndeployed(
  deps: Deps,
  targets: Targets,
  devicesBySite: Map<string, BatchDevice[]>,
): Promise<{ devicesBySite: Map<string, BatchDevice[]>; skipped: SkippedSite[] }> {
  const undeployed = await findUndeployedSites(deps.sqs, deps.env, [...devicesBySite.keys()]);
  if (undeployed.length === 0) return { devicesBySite, skipped: [] };
  const explicit = 'siteIds' in targets || 'deviceIds' in targets;
  if (explicit || undeployed.length === devicesBySite.size) {
    const queueNames = undeployed.map((siteId) => siteQueueName(deps.env.WINFLEET_PREFIX, siteId));
    throw new SiteNotDeployedError(undeployed, queueNames);
  }
  const skipped = undeployed.map((siteId) => ({
    siteId,
    reason: 'SiteNotDeployed',
    devices: devicesBySite.get(siteId)?.length ?? 0,
  }));
  const left = new Map([...devicesBySite].filter(([siteId]) => !undeployed.includes(siteId)));
  return { devicesBySite: left, skipped };
}

/** Devices per site in device id order, with the state last recorded for each. */
function groupBySite(devices: readonly DeviceItem[]): Map<string, BatchDevice[]> {
  const bySite = new Map<string, BatchDevice[]>();
  const sorted = [...devices].sort((a, b) => a.deviceId.localeCompare(b.deviceId));
  for (const { deviceId, computerName, address, port, siteId, lastStatus } of sorted) {
    const list = bySite.get(siteId) ?? [];
    list.push({ deviceId, computerName, address, port, ...(lastStatus ? { lastStatus } : {}) });
    bySite.set(siteId, list);
  }
  return new Map([...bySite].sort(([a], [b]) => a.localeCompare(b)));
}

function newOperation(
  request: OperationRequest,
  total: number,
  siteIds: string[],
  options: { source: Operation['source']; now?: Date },
): Operation {
  const now = options.now ?? new Date();
  const createdAt = now.toISOString();
  return {
    operationId: newOperationId(now.getTime()),
    type: request.type,
    status: 'Pending',
    targets: request.targets,
    parameters: request.parameters,
    rateControl: request.rateControl,
    force: request.force,
    total,
    done: 0,
    counts: {},
    siteIds,
    batchCount: 0,
    createdAt,
    updatedAt: createdAt,
    source: options.source,
  };
}

async function failOperation(deps: Deps, operation: Operation): Promise<void> {
  const now = new Date().toISOString();
  const { operationId } = operation;
  await transitionOperation(deps.doc, deps.env, {
    operationId,
    from: 'Pending',
    to: 'Failed',
    now,
  });
}
