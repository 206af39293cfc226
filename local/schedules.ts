import type { Context } from 'aws-lambda';
import type { Logger } from '../shared/logger.ts';
import { SCHEDULES, type ScheduleDefinition } from '../shared/routes.ts';
import { lambdaContext } from './lambda-context.ts';

type SweepHandler = (event: unknown, context: Context) => Promise<unknown>;

/**
 * Runs `shared/routes.ts`'s schedules on local timers, invoking the same handler EventBridge
 * invokes in AWS with the same input shape. Returns a function that stops the timers.
 */
export function startSchedules(logger: Logger): () => Promise<void> {
  const timers = SCHEDULES.map((schedule) =>
    setInterval(() => void fire(schedule, logger), schedule.everyMinutes * 60_000),
  );
  return async () => {
    for (const timer of timers) clearInterval(timer);
  };
}

async function fire(schedule: ScheduleDefinition, logger: Logger): Promise<void> {
  try {
    const module = (await import(`../functions/handlers/${schedule.handler}.ts`)) as {
      handler: SweepHandler;
    };
    await module.handler(scheduledEvent(schedule), lambdaContext(schedule.name));
    logger.info({ schedule: schedule.name }, 'schedule fired');
  } catch (error) {
    logger.error({ err: error, schedule: schedule.name }, 'schedule failed');
  }
}

/** An EventBridge "Scheduled Event" carrying the operation type, as the CDK rule sends it. */
function scheduledEvent(schedule: ScheduleDefinition) {
  return {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: new Date().toISOString(),
    region: process.env.AWS_REGION ?? 'us-east-1',
    resources: [`arn:aws:events:local:000000000000:rule/${schedule.name}`],
    detail: { operationType: schedule.operationType },
  };
}
