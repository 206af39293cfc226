import { z } from 'zod';

/** First line of the built-in inventory script; the simulated fleet recognises it by this line. */
export const INVENTORY_SCRIPT_MARKER = '# winfleet:inventory v1';

/** Prints one JSON document: OS, hardware, disks, installed software, hotfixes, services. */
export const INVENTORY_SCRIPT = `${INVENTORY_SCRIPT_MARKER}
$ErrorActionPreference = 'Stop'
$os = Get-CimInstance -ClassName Win32_OperatingSystem
$cs = Get-CimInstance -ClassName Win32_ComputerSystem
$bios = Get-CimInstance -ClassName Win32_BIOS
$cpu = Get-CimInstance -ClassName Win32_Processor | Select-Object -First 1
$uninstall = @(
  'HKLM:\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*',
  'HKLM:\\Software\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*'
)
$software = @(Get-ItemProperty -Path $uninstall -ErrorAction SilentlyContinue |
  Where-Object { $_.DisplayName } |
  ForEach-Object { [ordered]@{ name = [string]$_.DisplayName; version = [string]$_.DisplayVersion; publisher = [string]$_.Publisher } })
$disks = @(Get-CimInstance -ClassName Win32_LogicalDisk -Filter 'DriveType=3' |
  ForEach-Object { [ordered]@{ deviceId = $_.DeviceID; sizeBytes = [int64]$_.Size; freeBytes = [int64]$_.FreeSpace; fileSystem = [string]$_.FileSystem } })
$hotfixes = @(Get-CimInstance -ClassName Win32_QuickFixEngineering |
  ForEach-Object { [ordered]@{ id = [string]$_.HotFixID; installedOn = [string]$_.InstalledOn } })
$services = @(Get-CimInstance -ClassName Win32_Service |
  ForEach-Object { [ordered]@{ name = $_.Name; displayName = [string]$_.DisplayName; state = [string]$_.State; startMode = [string]$_.StartMode } })
[ordered]@{
  computerName = $env:COMPUTERNAME
  os = [ordered]@{ caption = [string]$os.Caption; version = [string]$os.Version; buildNumber = [string]$os.BuildNumber; architecture = [string]$os.OSArchitecture }
  hardware = [ordered]@{ manufacturer = [string]$cs.Manufacturer; model = [string]$cs.Model; serialNumber = [string]$bios.SerialNumber; processor = [string]$cpu.Name; logicalProcessors = [int]$cs.NumberOfLogicalProcessors; memoryTotalBytes = [int64]$cs.TotalPhysicalMemory }
  disks = $disks
  software = $software
  hotfixes = $hotfixes
  services = $services
} | ConvertTo-Json -Compress -Depth 4
`;

/** What the inventory script prints, validated before it is stored. */
export const InventoryOutput = z.object({
  computerName: z.string(),
  os: z.object({
    caption: z.string(),
    version: z.string(),
    buildNumber: z.string(),
    architecture: z.string(),
  }),
  hardware: z.object({
    manufacturer: z.string(),
    model: z.string(),
    serialNumber: z.string(),
    processor: z.string(),
    logicalProcessors: z.number().int().min(0),
    memoryTotalBytes: z.number().int().min(0),
  }),
  disks: z.array(
    z.object({
      deviceId: z.string(),
      sizeBytes: z.number().int().min(0),
      freeBytes: z.number().int().min(0),
      fileSystem: z.string(),
    }),
  ),
  software: z.array(z.object({ name: z.string(), version: z.string(), publisher: z.string() })),
  hotfixes: z.array(z.object({ id: z.string(), installedOn: z.string() })),
  services: z.array(
    z.object({
      name: z.string(),
      displayName: z.string(),
      state: z.string(),
      startMode: z.string(),
    }),
  ),
});
export type InventoryOutput = z.infer<typeof InventoryOutput>;
