import { describe, expect, it } from 'vitest';
import { runCostSweep } from '../bench/cloud-cost-sweep.ts';
import { createLogger } from '../shared/logger.ts';

describe('the cloud cost of a status sweep', () => {
  it('sweeps 10,000 unchanged devices within 2,000 write units and 500 SQS requests', async () => {
    const report = await runCostSweep({
      sites: 10,
      devicesPerSite: 1000,
      logger: createLogger('test', { level: 'silent' }),
    });

    expect(report).toMatchObject({ status: 'Success', counts: { Success: 10_000 } });
    expect(report.total.computedWriteUnits).toBeLessThanOrEqual(2000);
    expect(report.total.consumedWriteUnits).toBeLessThanOrEqual(2000);
    expect(report.total.sqsBilledRequests).toBeLessThanOrEqual(500);
    // One result item and one metrics item per batch; no device changed, so none is written.
    expect(report.connectors.calls['DynamoDB.PutItem']).toBe(2 * report.batches);
    expect(report.connectors.calls['DynamoDB.BatchWriteItem']).toBeUndefined();
    expect(report.connectors.calls['SQS.ChangeMessageVisibility']).toBeUndefined();
  }, 120_000);
});
