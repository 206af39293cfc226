import { z } from 'zod';

/** First line of the built-in service script; the simulated fleet recognises it by this line. */
export const SERVICE_SCRIPT_MARKER = '# winfleet:service v1';

export type ServiceAction = 'start' | 'stop' | 'restart';

/** Quotes a value as a PowerShell single-quoted string literal (no expansion inside). */
function quote(value: string): string {
  return `'${value.replace(/['\u2018\u2019\u201a\u201b]/g, "''")}'`;
}

/**
 * Starts, stops or restarts one Windows service and prints its state afterwards as one JSON
 * document. Lines 2 and 3 always bind `$name` and `$action` as single-quoted literals, so the
 * simulated fleet can read them back.
 */
export function serviceScript(name: string, action: ServiceAction): string {
  return `${SERVICE_SCRIPT_MARKER}
$name = ${quote(name)}
$action = ${quote(action)}
$ErrorActionPreference = 'Stop'
$service = Get-Service -Name $name
switch ($action) {
  'start' { Start-Service -InputObject $service }
  'stop' { Stop-Service -InputObject $service -Force }
  'restart' { Restart-Service -InputObject $service -Force }
}
$service.Refresh()
[ordered]@{
  name = $service.Name
  displayName = $service.DisplayName
  action = $action
  status = [string]$service.Status
} | ConvertTo-Json -Compress
`;
}

/** What the service script prints, validated before it is stored. */
export const ServiceOutput = z.object({
  name: z.string(),
  displayName: z.string(),
  action: z.enum(['start', 'stop', 'restart']),
  status: z.string(),
});
export type ServiceOutput = z.infer<typeof ServiceOutput>;
