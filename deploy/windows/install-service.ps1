<#
.SYNOPSIS
  Installs (or removes) one winfleet connector as a Windows service, with WinSW.

.DESCRIPTION
  Writes winfleet-connector-<SiteId>.xml from the template next to this script, copies WinSW
  beside it under the same name, restricts the config file (it may hold the WinRM password) to
  SYSTEM and Administrators, then installs and starts the service. Run as Administrator.

.EXAMPLE
  .\install-service.ps1 -SiteId site-alpha -ConfigFile C:\ProgramData\winfleet\site-alpha.json `
    -WinSW C:\Tools\WinSW-x64.exe
.EXAMPLE
  .\install-service.ps1 -SiteId site-alpha -Uninstall
#>
[CmdletBinding()]
param(
  [Parameter(Mandatory)] [ValidatePattern('^[a-z0-9][a-z0-9-]{0,62}$')] [string] $SiteId,
  [string] $ConfigFile = "$env:ProgramData\winfleet\$SiteId.json",
  [string] $InstallDir = "$env:ProgramFiles\winfleet",
  [string] $DataDir = "$env:ProgramData\winfleet\$SiteId",
  [string] $NodeExe = (Get-Command node.exe -ErrorAction SilentlyContinue).Source,
  [string] $WinSW,
  [switch] $Uninstall
)
$ErrorActionPreference = 'Stop'
$name = "winfleet-connector-$SiteId"
$serviceDir = Join-Path $DataDir 'service'
$wrapper = Join-Path $serviceDir "$name.exe"

if ($Uninstall) {
  if (Test-Path $wrapper) {
    & $wrapper stop
    & $wrapper uninstall
  }
  Write-Host "Removed service $name (the archive in $DataDir is kept)."
  return
}

if (-not $NodeExe) { throw 'node.exe not found: install Node.js 20 or pass -NodeExe' }
if (-not $WinSW -or -not (Test-Path $WinSW)) { throw 'pass -WinSW with the path of WinSW-x64.exe' }
if (-not (Test-Path $ConfigFile)) { throw "config file $ConfigFile not found" }
if (-not (Test-Path (Join-Path $InstallDir 'connector\main.ts'))) {
  throw "winfleet is not installed in $InstallDir (run npm ci there first)"
}

New-Item -ItemType Directory -Force -Path $serviceDir, (Join-Path $DataDir 'logs') | Out-Null
Copy-Item $WinSW $wrapper -Force
$template = Get-Content -Raw (Join-Path $PSScriptRoot 'winfleet-connector.xml')
$xml = $template.Replace('@SITE_ID@', $SiteId).Replace('@NODE_EXE@', $NodeExe).
  Replace('@INSTALL_DIR@', $InstallDir).Replace('@CONFIG_FILE@', $ConfigFile).
  Replace('@DATA_DIR@', $DataDir)
Set-Content -Path (Join-Path $serviceDir "$name.xml") -Value $xml -Encoding UTF8

# Only SYSTEM (the service account) and Administrators may read the config.
icacls $ConfigFile /inheritance:r /grant:r 'SYSTEM:(R)' 'Administrators:(F)' | Out-Null

& $wrapper install
& $wrapper start
Get-Service $name
