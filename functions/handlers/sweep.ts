import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { NoTargetsError, SiteNotDeployedError } from '../errors.ts';
import { type CreatedOperation, createOperation } from '../lib/create-operation.ts';
import { getDeps } from '../lib/deps.ts';

const SweepType = z.enum(['status', 'inventory']);

/**
 * An EventBridge scheduled event whose `detail` names the sweep (the local timer sends this
 * shape), or the rule target's constant input `{operationType}`. Other event fields pass.
 */
export const SweepEvent = z.union([
  z.object({ detail: z.object({ operationType: SweepType }) }),
  z.object({ operationType: SweepType }),
]);

export type SweepOutcome = CreatedOperation | { skipped: 'no devices' | 'no deployed sites' };

/**
 * The scheduled sweep: one operation of the given type over every device of every site that
 * has a queue; the devices of sites without one are left out and listed as `skipped`.
 */
export async function handler(event: unknown, context: Context): Promise<SweepOutcome> {
  const parsed = SweepEvent.parse(event);
  const type = 'detail' in parsed ? parsed.detail.operationType : parsed.operationType;
  const deps = getDeps();
  const logger = deps.logger.child({ awsRequestId: context.awsRequestId, sweep: type });
  try {
    return await createOperation(
      deps,
      { type, targets: { all: true } },
      {
        source: 'schedule',
        logger,
      },
    );
  } catch (error) {
    // An empty or undeployed fleet is not a failure worth retrying the schedule for.
    if (error instanceof SiteNotDeployedError) {
      logger.warn({ siteIds: error.siteIds }, 'sweep skipped: no deployed sites');
      return { skipped: 'no deployed sites' };
    }
    if (!(error instanceof NoTargetsError)) throw error;
    logger.info('sweep skipped: no devices');
    return { skipped: 'no devices' };
  }
}
