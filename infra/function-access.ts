import type { TableKey } from '../shared/tables.ts';

/** What one Lambda handler touches; the stack grants exactly this and nothing more. */
export interface FunctionAccess {
  readTables: readonly TableKey[];
  writeTables: readonly TableKey[];
  /** Sends batches to the site queues. */
  sendToSiteQueues?: boolean;
  /** Reads the site queues' attributes (depth, age of the oldest message). */
  readSiteQueues?: boolean;
}

/**
 * Planning an operation: the API's create route and the scheduled sweep record it with its
 * dispatch plan (in the results table) and invoke the dispatch function (shared/routes.ts).
 */
const PLAN: FunctionAccess = {
  readTables: ['devices', 'sites'],
  writeTables: ['operations', 'results'],
};

/** Access by handler module name (`functions/handlers/<name>.ts`). */
export const FUNCTION_ACCESS: Readonly<Record<string, FunctionAccess>> = {
  'operations-create': PLAN,
  sweep: PLAN,
  // Reads the plan, records sent batches, moves the operation to InProgress (or Failed).
  dispatch: {
    readTables: ['operations', 'results'],
    writeTables: ['operations', 'results'],
    sendToSiteQueues: true,
  },
  // Progress is the sum over the operation's batch items in the results table.
  'operations-list': { readTables: ['operations', 'results'], writeTables: [] },
  'operations-get': { readTables: ['operations', 'results'], writeTables: [] },
  'operations-results': { readTables: ['operations', 'results'], writeTables: [] },
  'operations-cancel': { readTables: ['operations'], writeTables: ['operations'] },
  'devices-list': { readTables: ['devices'], writeTables: [] },
  'devices-put': { readTables: ['sites'], writeTables: ['devices'] },
  'devices-import': { readTables: ['sites'], writeTables: ['devices'] },
  'devices-metrics': { readTables: ['devices', 'metrics'], writeTables: [] },
  // Queue depth per site for each connector's health (issue 4).
  'sites-list': { readTables: ['sites'], writeTables: [], readSiteQueues: true },
  'sites-put': { readTables: [], writeTables: ['sites'] },
  openapi: { readTables: [], writeTables: [] },
};

/** Read-only on the table named by the handler's first word: a new route starts harmless. */
export function functionAccess(handler: string): FunctionAccess {
  const known = FUNCTION_ACCESS[handler];
  if (known) return known;
  const area = handler.split('-')[0];
  const table = area === 'operations' || area === 'devices' || area === 'sites' ? area : undefined;
  return { readTables: table ? [table] : [], writeTables: [] };
}
