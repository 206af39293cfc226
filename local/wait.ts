import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient } from '../cli/api-client.ts';
import type { Operation } from '../shared/schemas/operation.ts';

const FINAL = new Set(['Success', 'CompletedWithErrors', 'Failed', 'Cancelled']);

/** Polls an operation until it reaches a final status, calling `onProgress` after each poll. */
export async function waitForOperation(
  api: ApiClient,
  operationId: string,
  options: { pollMs?: number; signal?: AbortSignal; onProgress?: (op: Operation) => void } = {},
): Promise<Operation> {
  for (;;) {
    const operation = await api.operation(operationId);
    options.onProgress?.(operation);
    if (FINAL.has(operation.status)) return operation;
    await sleep(options.pollMs ?? 500, undefined, { signal: options.signal });
  }
}

export { ApiClient };
