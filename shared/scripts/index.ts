export { INVENTORY_SCRIPT, INVENTORY_SCRIPT_MARKER, InventoryOutput } from './inventory.ts';
export {
  SERVICE_SCRIPT_MARKER,
  type ServiceAction,
  ServiceOutput,
  serviceScript,
} from './service.ts';
export { STATUS_SCRIPT, STATUS_SCRIPT_MARKER, StatusOutput } from './status.ts';
