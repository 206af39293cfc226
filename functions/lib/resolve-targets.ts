import type { Targets } from '../../shared/schemas/index.ts';
import { BadRequestError, NoTargetsError } from '../errors.ts';
import type { Deps } from './deps.ts';
import { type DeviceItem, getDevices, listAllDevices } from './devices-store.ts';
import { listSites } from './sites-store.ts';

/** Ids listed in an error's details at most; the count says how many there were. */
const MAX_IDS_IN_DETAILS = 100;

/**
 * The devices an operation's targets name. Unknown device or site ids are a 400; targets that
 * are valid but match no device are a 422.
 */
export async function resolveTargets(deps: Deps, targets: Targets): Promise<DeviceItem[]> {
  const devices = await findDevices(deps, targets);
  if (devices.length === 0) {
    throw new NoTargetsError('the targets match no registered device', { details: { targets } });
  }
  return devices;
}

async function findDevices(deps: Deps, targets: Targets): Promise<DeviceItem[]> {
  const { doc, env } = deps;
  if ('all' in targets) return listAllDevices(doc, env);
  if ('deviceIds' in targets) return findByIds(deps, targets.deviceIds);
  if ('siteIds' in targets) return findBySites(deps, targets.siteIds);
  const all = await listAllDevices(doc, env);
  const wanted = Object.entries(targets.tags);
  return all.filter((device) => wanted.every(([key, value]) => device.tags[key] === value));
}

async function findByIds(deps: Deps, deviceIds: readonly string[]): Promise<DeviceItem[]> {
  const unique = [...new Set(deviceIds)];
  const devices = await getDevices(deps.doc, deps.env, unique);
  const found = new Set(devices.map((device) => device.deviceId));
  const missing = unique.filter((id) => !found.has(id));
  if (missing.length > 0) {
    throw new BadRequestError('UnknownDevices', `${missing.length} device ids are not registered`, {
      details: { count: missing.length, deviceIds: missing.slice(0, MAX_IDS_IN_DETAILS) },
    });
  }
  return devices;
}

async function findBySites(deps: Deps, siteIds: readonly string[]): Promise<DeviceItem[]> {
  const unique = [...new Set(siteIds)];
  const known = new Set((await listSites(deps.doc, deps.env)).map((site) => site.siteId));
  const devices: DeviceItem[] = [];
  const unknown: string[] = [];
  for (const siteId of unique) {
    const atSite = await listAllDevices(deps.doc, deps.env, siteId);
    // A site with devices but no site item still counts as known: its devices name it.
    if (atSite.length === 0 && !known.has(siteId)) unknown.push(siteId);
    devices.push(...atSite);
  }
  if (unknown.length > 0) {
    throw new BadRequestError('UnknownSites', `${unknown.length} site ids are not registered`, {
      details: { count: unknown.length, siteIds: unknown.slice(0, MAX_IDS_IN_DETAILS) },
    });
  }
  return devices;
}
