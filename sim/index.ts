export { FleetStartError, fleetCsv, startFleet } from './fleet.ts';
export { SubnetError } from './subnet.ts';
export type {
  DeviceFaults,
  Fleet,
  FleetOptions,
  FleetStats,
  SimDevice,
  SimDeviceSpec,
} from './types.ts';
