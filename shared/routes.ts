/** The HTTP API's routes, served by API Gateway in AWS and by the local gateway alike. */
export interface RouteDefinition {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** API Gateway path syntax: `{id}` names a path parameter. */
  path: string;
  /** The module under `functions/` whose `handler` serves the route. */
  handler: string;
}

export const ROUTES: readonly RouteDefinition[] = [
  { method: 'POST', path: '/operations', handler: 'operations-create' },
  { method: 'GET', path: '/operations/{id}', handler: 'operations-get' },
  { method: 'GET', path: '/operations/{id}/results', handler: 'operations-results' },
  { method: 'GET', path: '/devices', handler: 'devices-list' },
  { method: 'GET', path: '/sites', handler: 'sites-list' },
  { method: 'GET', path: '/operations', handler: 'operations-list' },
  { method: 'POST', path: '/operations/{id}/cancel', handler: 'operations-cancel' },
  { method: 'PUT', path: '/devices/{id}', handler: 'devices-put' },
  { method: 'PUT', path: '/sites/{id}', handler: 'sites-put' },
  { method: 'GET', path: '/openapi.json', handler: 'openapi' },
  { method: 'POST', path: '/devices/import', handler: 'devices-import' },
  { method: 'GET', path: '/devices/{id}/metrics', handler: 'devices-metrics' },
];

/**
 * Handlers invoked asynchronously by other handlers rather than by a route or a schedule. In
 * AWS each is its own function, invoked with InvocationType Event (Lambda retries a failed
 * attempt twice); locally the same handler runs in the background of the invoking process.
 */
export interface WorkerDefinition {
  handler: string;
  /** Handlers that invoke it; each gets its function name in `environmentVariable`. */
  invokedBy: readonly string[];
  environmentVariable: string;
}

export const WORKERS: readonly WorkerDefinition[] = [
  {
    handler: 'dispatch',
    invokedBy: ['operations-create', 'sweep'],
    environmentVariable: 'WINFLEET_DISPATCH_FUNCTION',
  },
];

/** Scheduled sweeps, run by EventBridge in AWS and by a timer locally. */
export interface ScheduleDefinition {
  name: string;
  /** Minutes between runs. */
  everyMinutes: number;
  handler: string;
  operationType: 'status' | 'inventory';
}

export const SCHEDULES: readonly ScheduleDefinition[] = [
  { name: 'status-sweep', everyMinutes: 5, handler: 'sweep', operationType: 'status' },
  { name: 'inventory-sweep', everyMinutes: 24 * 60, handler: 'sweep', operationType: 'inventory' },
];
