import type { Server } from 'node:http';
import { DeviceService, type DeviceSettings } from './device.ts';
import { createDeviceServer, type HttpSettings } from './device-server.ts';
import { StatsTracker } from './stats.ts';
import { allocateAddresses, parseSubnet } from './subnet.ts';
import type { Fleet, FleetOptions, SimDevice, SimDeviceSpec } from './types.ts';

const DEFAULTS = {
  subnet: '127.20.0.0/16',
  port: 5985,
  user: 'winfleet',
  password: 'winfleet',
  namePrefix: 'WS',
  maxShellsPerUser: 30,
  maxCommandsPerShell: 15,
  maxEnvelopeBytes: 512_000,
  idleShellTimeoutMs: 7_200_000,
  seed: 0x5eed,
};
// Servers bound at once while starting; thousands of listen() calls in one go starve the loop.
const LISTEN_BATCH = 256;

/** The simulated fleet could not start (a device's address and port were not free...). */
export class FleetStartError extends Error {
  override name = 'FleetStartError';
}

/**
 * Starts a simulated fleet: one HTTP server per device on its own loopback address, speaking
 * WinRS over WS-Management with Basic auth. Devices with `faults.unreachable` get no listener.
 */
export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const settings = { ...DEFAULTS, ...withoutUndefined(options) };
  const specs = deviceSpecs(options.devices, settings.namePrefix);
  const addresses = assignAddresses(specs, settings.subnet);
  const stats = new StatsTracker();
  const deviceSettings: DeviceSettings = { ...settings, stats, logger: options.logger };
  const httpSettings: HttpSettings = { ...settings, latencyMs: settings.latencyMs ?? 0 };

  const services = specs.map(
    (spec, i) => new DeviceService(spec, addresses[i] as string, deviceSettings),
  );
  const servers = new Map<DeviceService, Server>();
  try {
    await listenAll(services, servers, httpSettings, settings.port);
  } catch (error) {
    await closeAll(servers);
    throw error;
  }
  options.logger?.info(
    { devices: specs.length, subnet: settings.subnet, port: settings.port },
    'fleet started',
  );

  const devices: SimDevice[] = services.map((service) => ({
    computerName: service.computerName,
    address: service.address,
    port: settings.port,
    ...(options.siteId === undefined ? {} : { siteId: options.siteId }),
  }));
  return {
    devices,
    stats,
    resetStats: () => stats.reset(),
    close: async () => {
      for (const service of services) service.shutdown();
      await closeAll(servers);
      options.logger?.info({ devices: specs.length }, 'fleet stopped');
    },
  };
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function deviceSpecs(devices: number | SimDeviceSpec[], namePrefix: string): SimDeviceSpec[] {
  if (typeof devices !== 'number') return devices;
  return Array.from({ length: devices }, (_, i) => ({
    computerName: `${namePrefix}-${String(i + 1).padStart(4, '0')}`,
  }));
}

function assignAddresses(specs: SimDeviceSpec[], subnet: string): string[] {
  const taken = new Set(specs.flatMap((spec) => (spec.address ? [spec.address] : [])));
  const needed = specs.filter((spec) => !spec.address).length;
  const free = allocateAddresses(parseSubnet(subnet), needed, taken);
  let next = 0;
  return specs.map((spec) => spec.address ?? (free[next++] as string));
}

async function listenAll(
  services: DeviceService[],
  servers: Map<DeviceService, Server>,
  settings: HttpSettings,
  port: number,
): Promise<void> {
  const reachable = services.filter((service) => !service.faults.unreachable);
  for (let i = 0; i < reachable.length; i += LISTEN_BATCH) {
    const batch = reachable.slice(i, i + LISTEN_BATCH);
    await Promise.all(
      batch.map((service) => {
        const server = createDeviceServer(service, settings);
        servers.set(service, server);
        return listen(server, service.address, port);
      }),
    );
  }
}

function listen(server: Server, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error) =>
      reject(new FleetStartError(`cannot listen on ${address}:${port}`, { cause: error })),
    );
    server.listen(port, address, () => resolve());
  });
}

async function closeAll(servers: Map<DeviceService, Server>): Promise<void> {
  await Promise.all(
    [...servers.values()].map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    ),
  );
}

/** The fleet as CSV: a `computerName,address,siteId` header, then one line per device. */
export function fleetCsv(devices: SimDevice[]): string {
  const lines = devices.map((d) =>
    [d.computerName, d.address, d.siteId ?? ''].map(csvField).join(','),
  );
  return `${['computerName,address,siteId', ...lines].join('\n')}\n`;
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
