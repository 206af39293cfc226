import type { z } from 'zod';
import {
  type OperationType,
  ScriptParameters,
  ServiceParameters,
} from '../shared/schemas/operation.ts';
import {
  INVENTORY_SCRIPT,
  InventoryOutput,
  ServiceOutput,
  STATUS_SCRIPT,
  StatusOutput,
  serviceScript,
} from '../shared/scripts/index.ts';
import { ConnectorError } from './errors.ts';

/** The PowerShell an operation runs on each device, and how to read what it prints. */
export interface OperationScript {
  script: string;
  /** For built-in scripts: the JSON document stdout must hold. Undefined for callers' scripts. */
  output?: z.ZodType;
}

/** The batch's parameters do not fit its operation type; every device is reported Failed. */
export class InvalidParametersError extends ConnectorError {}

/** Builds the script for an operation type from the batch's parameters. */
export function operationScript(type: OperationType, parameters: unknown): OperationScript {
  switch (type) {
    case 'status':
      return { script: STATUS_SCRIPT, output: StatusOutput };
    case 'inventory':
      return { script: INVENTORY_SCRIPT, output: InventoryOutput };
    case 'service': {
      const { name, action } = parse(ServiceParameters, parameters, type);
      return { script: serviceScript(name, action), output: ServiceOutput };
    }
    case 'script': {
      const parsed = parse(ScriptParameters, parameters, type);
      return { script: bindArguments(parsed.script, parsed.arguments) };
    }
  }
}

function parse<T extends z.ZodType>(schema: T, parameters: unknown, type: string): z.infer<T> {
  const parsed = schema.safeParse(parameters);
  if (parsed.success) return parsed.data;
  throw new InvalidParametersError(`invalid parameters for a ${type} operation`, {
    cause: parsed.error,
  });
}

/**
 * Runs the caller's script as a script block with its arguments splatted by name. The
 * arguments travel as base64 JSON, so no value is ever parsed as PowerShell code.
 */
export function bindArguments(
  script: string,
  args: Record<string, string | number | boolean> | undefined,
): string {
  if (!args || Object.keys(args).length === 0) return script;
  const encoded = Buffer.from(JSON.stringify(args), 'utf8').toString('base64');
  return `$winfleetJson = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('${encoded}'))
$winfleetArguments = @{}
(ConvertFrom-Json $winfleetJson).PSObject.Properties | ForEach-Object { $winfleetArguments[$_.Name] = $_.Value }
& {
${script}
} @winfleetArguments
`;
}
