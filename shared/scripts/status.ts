import { z } from 'zod';

/** First line of the built-in status script; the simulated fleet recognises it by this line. */
export const STATUS_SCRIPT_MARKER = '# winfleet:status v1';

/** Prints one JSON document: uptime, CPU, memory and free disk of the system drive. */
export const STATUS_SCRIPT = `${STATUS_SCRIPT_MARKER}
$ErrorActionPreference = 'Stop'
$os = Get-CimInstance -ClassName Win32_OperatingSystem
$cpu = (Get-CimInstance -ClassName Win32_Processor | Measure-Object -Property LoadPercentage -Average).Average
$disk = Get-CimInstance -ClassName Win32_LogicalDisk -Filter "DeviceID='$env:SystemDrive'"
[ordered]@{
  computerName = $env:COMPUTERNAME
  uptimeSeconds = [int64]((Get-Date) - $os.LastBootUpTime).TotalSeconds
  cpuPercent = [double]$cpu
  memoryTotalBytes = [int64]$os.TotalVisibleMemorySize * 1024
  memoryFreeBytes = [int64]$os.FreePhysicalMemory * 1024
  diskFreeBytes = [int64]$disk.FreeSpace
  diskTotalBytes = [int64]$disk.Size
  osVersion = $os.Version
} | ConvertTo-Json -Compress
`;

/** What the status script prints, validated before it is stored. */
export const StatusOutput = z.object({
  computerName: z.string(),
  uptimeSeconds: z.number().int().min(0),
  cpuPercent: z.number().min(0).max(100),
  memoryTotalBytes: z.number().int().min(0),
  memoryFreeBytes: z.number().int().min(0),
  diskFreeBytes: z.number().int().min(0),
  diskTotalBytes: z.number().int().min(0),
  osVersion: z.string(),
});
export type StatusOutput = z.infer<typeof StatusOutput>;
