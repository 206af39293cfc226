import type { ServiceOutput } from '../shared/scripts/index.ts';
import { servicesFor } from './inventory.ts';
import { tokenize } from './powershell-parse.ts';

const ACTIONS = new Set(['start', 'stop', 'restart']);

/** What the built-in service script does on a device: its JSON line, or an error record. */
export type ServiceRun = { output: ServiceOutput } | { errorLines: string[] };

/**
 * Runs the built-in service script: reads `$name` and `$action` from lines 2 and 3, changes the
 * service's state in `states` (kept per device, so the inventory sees it) and reports it.
 * An unknown service fails the way Get-Service does under `$ErrorActionPreference = 'Stop'`.
 */
export function runServiceScript(script: string, states: Map<string, string>): ServiceRun {
  const lines = script.split(/\r?\n/);
  const name = literalAssigned(lines[1], 'name');
  const action = literalAssigned(lines[2], 'action');
  if (name === undefined || action === undefined || !ACTIONS.has(action)) {
    return { errorLines: malformed(lines[1] ?? '') };
  }
  const service = servicesFor(states).find((s) => s.name.toLowerCase() === name.toLowerCase());
  if (!service) return { errorLines: notFound(name) };
  const status = action === 'stop' ? 'Stopped' : 'Running';
  states.set(service.name.toLowerCase(), status);
  return {
    output: {
      name: service.name,
      displayName: service.displayName,
      action: action as ServiceOutput['action'],
      status,
    },
  };
}

/** The value of `$variable = 'literal'` on a line, or undefined when the line is not that. */
function literalAssigned(line: string | undefined, variable: string): string | undefined {
  const [target, equals, value, ...rest] = tokenize(line ?? '');
  if (target?.kind !== 'variable' || target.name.toLowerCase() !== variable) return undefined;
  if (equals?.kind !== 'operator' || equals.value !== '=' || rest.length > 0) return undefined;
  return value?.kind === 'string' && !value.expandable ? value.value : undefined;
}

function notFound(name: string): string[] {
  const call = '$service = Get-Service -Name $name';
  return [
    `Get-Service : Cannot find any service with service name '${name}'.`,
    'At line:5 char:12',
    `+ ${call}`,
    `+            ${'~'.repeat(call.length - 11)}`,
    `    + CategoryInfo          : ObjectNotFound: (${name}:String) [Get-Service], ServiceCommandException`,
    '    + FullyQualifiedErrorId : NoServiceFoundForGivenName,Microsoft.PowerShell.Commands.GetServiceCommand',
    ' ',
  ];
}

function malformed(line: string): string[] {
  return [
    `The simulator expected $name and $action as single-quoted literals on lines 2 and 3, got: ${line}`,
    ' ',
  ];
}
