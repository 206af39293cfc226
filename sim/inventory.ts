import type { InventoryOutput } from '../shared/scripts/index.ts';
import { hashString, type Random, randomInt, seededRandom } from './random.ts';
import { statusFor } from './status.ts';

type Service = InventoryOutput['services'][number];

const CAPTIONS: Record<string, string> = {
  '10.0.19045': 'Microsoft Windows 10 Enterprise',
  '10.0.22631': 'Microsoft Windows 11 Enterprise',
  '10.0.26100': 'Microsoft Windows 11 Pro',
  '10.0.17763': 'Microsoft Windows Server 2019 Standard',
  '10.0.20348': 'Microsoft Windows Server 2022 Standard',
};
const MODELS = [
  ['Dell Inc.', 'OptiPlex 7090'],
  ['Dell Inc.', 'Latitude 5440'],
  ['HP', 'EliteDesk 800 G6'],
  ['Lenovo', 'ThinkCentre M90q'],
  ['VMware, Inc.', 'VMware7,1'],
  ['Microsoft Corporation', 'Virtual Machine'],
] as const;
const PROCESSORS = [
  ['Intel(R) Core(TM) i5-10500 CPU @ 3.10GHz', 12],
  ['Intel(R) Core(TM) i7-1365U', 12],
  ['AMD Ryzen 7 PRO 5750G with Radeon Graphics', 16],
  ['Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz', 8],
] as const;
const SOFTWARE = [
  ['Google Chrome', '126.0.6478.127', 'Google LLC'],
  ['Mozilla Firefox (x64 en-US)', '127.0.2', 'Mozilla'],
  ['7-Zip 23.01 (x64)', '23.01', 'Igor Pavlov'],
  ['Microsoft Edge', '126.0.2592.87', 'Microsoft Corporation'],
  ['Notepad++ (64-bit x64)', '8.6.8', 'Notepad++ Team'],
  ['Microsoft 365 Apps for enterprise - en-us', '16.0.17726.20160', 'Microsoft Corporation'],
  ['VLC media player', '3.0.21', 'VideoLAN'],
  ['Adobe Acrobat Reader', '24.002.20895', 'Adobe'],
  [
    'Microsoft Visual C++ 2015-2022 Redistributable (x64)',
    '14.40.33810.0',
    'Microsoft Corporation',
  ],
  ['Zabbix Agent 2 (64-bit)', '6.4.15.2400', 'Zabbix SIA'],
] as const;
/** Services every simulated device has: name, display name, state at boot, start mode. */
const SERVICES: ReadonlyArray<readonly [string, string, string, string]> = [
  ['BITS', 'Background Intelligent Transfer Service', 'Stopped', 'Manual'],
  ['Dhcp', 'DHCP Client', 'Running', 'Auto'],
  ['Dnscache', 'DNS Client', 'Running', 'Auto'],
  ['EventLog', 'Windows Event Log', 'Running', 'Auto'],
  ['LanmanServer', 'Server', 'Running', 'Auto'],
  ['LanmanWorkstation', 'Workstation', 'Running', 'Auto'],
  ['Spooler', 'Print Spooler', 'Running', 'Auto'],
  ['W32Time', 'Windows Time', 'Running', 'Manual'],
  ['WinRM', 'Windows Remote Management (WS-Management)', 'Running', 'Auto'],
  ['wuauserv', 'Windows Update', 'Stopped', 'Manual'],
];

/**
 * The services of a device, with the states its service operations left them in (`states`,
 * keyed by lower-case name); a fixed list, so every device has a `Spooler`, `WinRM`...
 */
export function servicesFor(states: ReadonlyMap<string, string> = new Map()): Service[] {
  return SERVICES.map(([name, displayName, state, startMode]) => ({
    name,
    displayName,
    state: states.get(name.toLowerCase()) ?? state,
    startMode,
  }));
}

/**
 * Plausible inventory for one device, fixed by a hash of its name (and consistent with its
 * status: same OS version, memory and disk size); services reflect `serviceStates`.
 */
export function inventoryFor(
  computerName: string,
  serviceStates: ReadonlyMap<string, string> = new Map(),
): InventoryOutput {
  const status = statusFor(computerName);
  const random = seededRandom(hashString(`inventory:${computerName}`));
  const pick = <T>(values: readonly T[]): T => values[randomInt(random, 0, values.length - 1)] as T;
  const [manufacturer, model] = pick(MODELS);
  const [processor, logicalProcessors] = pick(PROCESSORS);
  return {
    computerName,
    os: {
      caption: CAPTIONS[status.osVersion] ?? 'Microsoft Windows',
      version: status.osVersion,
      buildNumber: status.osVersion.split('.').at(-1) ?? '',
      architecture: '64-bit',
    },
    hardware: {
      manufacturer,
      model,
      serialNumber: serialNumber(random),
      processor,
      logicalProcessors,
      memoryTotalBytes: status.memoryTotalBytes,
    },
    disks: [
      {
        deviceId: 'C:',
        sizeBytes: status.diskTotalBytes,
        freeBytes: status.diskFreeBytes,
        fileSystem: 'NTFS',
      },
    ],
    software: SOFTWARE.filter(() => random() < 0.6).map(([name, version, publisher]) => ({
      name,
      version,
      publisher,
    })),
    hotfixes: hotfixes(random),
    services: servicesFor(serviceStates),
  };
}

function serialNumber(random: Random): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';
  let serial = '';
  for (let i = 0; i < 7; i++) serial += alphabet[randomInt(random, 0, alphabet.length - 1)];
  return serial;
}

function hotfixes(random: Random): InventoryOutput['hotfixes'] {
  const count = randomInt(random, 2, 6);
  return Array.from({ length: count }, (_, i) => ({
    id: `KB50${randomInt(random, 10_000, 49_999)}`,
    // Win32_QuickFixEngineering.InstalledOn cast to string, as the script does.
    installedOn: `${randomInt(random, 1, 12)}/${randomInt(random, 1, 28)}/${2023 + (i % 2)} 12:00:00 AM`,
  }));
}
