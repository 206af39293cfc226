import type { Logger } from '../../shared/logger.ts';
import { QUEUE_SETTINGS } from '../../shared/queues.ts';
import type {
  DeviceTarget,
  Operation,
  OperationRequest,
  OperationStatus,
} from '../../shared/schemas/index.ts';
import { DispatchError } from '../errors.ts';
import type { Deps } from './deps.ts';
import type { DeviceItem } from './devices-store.ts';
import { dispatchBatches } from './dispatch-batches.ts';
import { newOperationId } from './operation-id.ts';
import { getOperation, putOperation, transitionOperation } from './operations-store.ts';
import { planBatches } from './plan-batches.ts';
import { resolveTargets } from './resolve-targets.ts';

/** What `POST /operations` answers with (202). */
export interface CreatedOperation {
  operationId: string;
  status: OperationStatus;
  total: number;
  siteIds: string[];
  batchCount: number;
}

/**
 * Starts an operation, for the API and for scheduled sweeps alike: resolves the targets,
 * records the operation as Pending, queues its batches, then moves it to InProgress unless a
 * connector already moved it further. If batches cannot be queued the operation is marked
 * Failed and a DispatchError (503) is thrown.
 */
export async function createOperation(
  deps: Deps,
  request: OperationRequest,
  options: { source: Operation['source']; logger: Logger; now?: Date },
): Promise<CreatedOperation> {
  const devices = await resolveTargets(deps, request.targets);
  const devicesBySite = groupBySite(devices);
  const operation = newOperation(request, devices.length, [...devicesBySite.keys()], options);
  const logger = options.logger.child({ operationId: operation.operationId });
  const batches = planBatches(operation, devicesBySite, QUEUE_SETTINGS);
  operation.batchCount = batches.length;

  await putOperation(deps.doc, deps.env, operation);
  const failed = await dispatchBatches(deps.sqs, deps.env, batches, logger);
  if (failed.length > 0) {
    await finishTransition(deps, operation, 'Failed');
    logger.error({ failedBatches: failed.length, batchCount: batches.length }, 'dispatch failed');
    throw new DispatchError(
      operation.operationId,
      failed.map((batch) => batch.batchId),
    );
  }
  const status = await finishTransition(deps, operation, 'InProgress');
  logger.info({ total: operation.total, batchCount: batches.length, status }, 'operation created');
  return {
    operationId: operation.operationId,
    status,
    total: operation.total,
    siteIds: operation.siteIds,
    batchCount: operation.batchCount,
  };
}

function groupBySite(devices: readonly DeviceItem[]): Map<string, DeviceTarget[]> {
  const bySite = new Map<string, DeviceTarget[]>();
  const sorted = [...devices].sort((a, b) => a.deviceId.localeCompare(b.deviceId));
  for (const { deviceId, computerName, address, port, siteId } of sorted) {
    const list = bySite.get(siteId) ?? [];
    list.push({ deviceId, computerName, address, port });
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

/** Moves the operation out of Pending; if something else moved it first, returns that status. */
async function finishTransition(
  deps: Deps,
  operation: Operation,
  to: OperationStatus,
): Promise<OperationStatus> {
  const change = { operationId: operation.operationId, from: 'Pending' as const, to };
  const moved = await transitionOperation(deps.doc, deps.env, {
    ...change,
    now: new Date().toISOString(),
  });
  if (moved) return to;
  const current = await getOperation(deps.doc, deps.env, operation.operationId);
  return current?.status ?? to;
}
