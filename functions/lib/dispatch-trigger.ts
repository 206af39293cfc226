import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { Logger } from '../../shared/logger.ts';
import { DispatchError } from '../errors.ts';
import type { Deps } from './deps.ts';
import { dispatchOperation, MAX_DISPATCH_ATTEMPTS } from './dispatch-operation.ts';
import { backoff } from './items.ts';

const lambdaClients = new Map<string, LambdaClient>();
const inBackground = new Set<Promise<void>>();

/**
 * Starts an operation's dispatch without waiting for it. In AWS it invokes the dispatch
 * function asynchronously (Lambda queues the event and retries a failed attempt twice);
 * locally, where `WINFLEET_DISPATCH_FUNCTION` is unset, the same dispatch runs in the
 * background of this process with the same three attempts.
 */
export async function triggerDispatch(
  deps: Deps,
  operationId: string,
  logger: Logger,
): Promise<void> {
  const functionName = deps.env.WINFLEET_DISPATCH_FUNCTION;
  if (!functionName) {
    const run = dispatchInBackground(deps, operationId, logger);
    inBackground.add(run);
    void run.finally(() => inBackground.delete(run));
    return;
  }
  try {
    await lambdaClient(deps.env.AWS_REGION).send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'Event',
        Payload: new TextEncoder().encode(JSON.stringify({ operationId })),
      }),
    );
  } catch (error) {
    throw new DispatchError(operationId, [], error);
  }
}

function lambdaClient(region: string): LambdaClient {
  let client = lambdaClients.get(region);
  if (!client) {
    client = new LambdaClient({ region, maxAttempts: 5 });
    lambdaClients.set(region, client);
  }
  return client;
}

async function dispatchInBackground(deps: Deps, operationId: string, logger: Logger) {
  for (let attempt = 1; attempt <= MAX_DISPATCH_ATTEMPTS; attempt++) {
    try {
      await dispatchOperation(deps, operationId, logger);
      return;
    } catch (error) {
      logger.warn({ err: error, operationId, attempt }, 'dispatch attempt failed');
      if (attempt < MAX_DISPATCH_ATTEMPTS) await backoff(attempt + 3);
    }
  }
}

/** Waits until every dispatch started in this process's background has ended. */
export async function settleDispatches(): Promise<void> {
  while (inBackground.size > 0) await Promise.allSettled([...inBackground]);
}
