/**
 * The DynamoDB and SQS cost of a 10,000-device status sweep in which no device changed state,
 * against the targets of issue 5 (at most 2,000 write units and 500 SQS requests).
 *
 *   npx tsx bench/cloud-cost.ts [--sites N] [--devices-per-site N]
 *
 * Prints the counts as JSON and exits 1 when a target is missed.
 */
import { parseArgs } from 'node:util';
import { createLogger } from '../shared/logger.ts';
import { runCostSweep } from './cloud-cost-sweep.ts';

export const COST_TARGETS = { maxWriteUnits: 2000, maxSqsRequests: 500 } as const;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sites: { type: 'string', default: '10' },
      'devices-per-site': { type: 'string', default: '1000' },
    },
  });
  const report = await runCostSweep({
    sites: Number(values.sites),
    devicesPerSite: Number(values['devices-per-site']),
    logger: createLogger('bench', { level: 'silent' }),
  });
  const writeUnits = Math.max(report.total.computedWriteUnits, report.total.consumedWriteUnits);
  const met =
    writeUnits <= COST_TARGETS.maxWriteUnits &&
    report.total.sqsBilledRequests <= COST_TARGETS.maxSqsRequests;
  console.log(JSON.stringify({ ...report, targets: COST_TARGETS, met }, null, 2));
  if (!met) process.exitCode = 1;
}

await main();
