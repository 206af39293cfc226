import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { OperationId } from '../../shared/schemas/index.ts';
import { getDeps } from '../lib/deps.ts';
import { type DispatchOutcome, dispatchOperation } from '../lib/dispatch-operation.ts';

/** What the create route and the sweep send when they invoke the dispatch asynchronously. */
export const DispatchEvent = z.object({ operationId: OperationId });

/**
 * Sends a created operation's batches (invoked asynchronously; a thrown error makes Lambda
 * try again, and the retry skips the batches already sent).
 */
export async function handler(event: unknown, context: Context): Promise<DispatchOutcome> {
  const { operationId } = DispatchEvent.parse(event);
  const deps = getDeps();
  const logger = deps.logger.child({ awsRequestId: context.awsRequestId, operationId });
  return dispatchOperation(deps, operationId, logger);
}
