import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_SETTINGS, siteDeadLetterQueueName, siteQueueName } from '../shared/queues.ts';
import { ROUTES, SCHEDULES, WORKERS } from '../shared/routes.ts';
import { TABLES, type TableKey, tableName } from '../shared/tables.ts';
import { functionAccess } from './function-access.ts';
import { buildTestApp, logicalId, synthTemplate, writeTempFile } from './test-support.ts';
import type { WinfleetStack } from './winfleet-stack.ts';

const SITE_IDS = ['site-alpha', 'site-beta'];
const FAKE_CA = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

let stack: WinfleetStack;
let template: Template;

beforeAll(() => {
  const built = buildTestApp({ connectorCaFile: writeTempFile('ca.pem', FAKE_CA) });
  stack = built.stack;
  template = synthTemplate(built.app, stack);
});

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };

/** The statements of the inline policies attached to a role. */
function roleStatements(roleLogicalId: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: roleLogicalId }] },
  });
  return Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

function tableId(key: TableKey): string {
  return logicalId(stack, stack.tables.table(key));
}

describe('tables', () => {
  it.each(Object.keys(TABLES) as TableKey[])('defines %s from shared/tables.ts', (key) => {
    const table = TABLES[key];
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: tableName('winfleet-', key),
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      KeySchema: Match.arrayWith([{ AttributeName: table.partitionKey, KeyType: 'HASH' }]),
      TimeToLiveSpecification:
        'ttlAttribute' in table
          ? { AttributeName: table.ttlAttribute, Enabled: true }
          : Match.absent(),
      GlobalSecondaryIndexes:
        table.indexes.length > 0
          ? table.indexes.map((index) =>
              Match.objectLike({
                IndexName: index.indexName,
                Projection: { ProjectionType: 'ALL' },
              }),
            )
          : Match.absent(),
    });
  });

  it('keeps the data when the stack is deleted', () => {
    const tables = Object.values(template.findResources('AWS::DynamoDB::Table'));
    expect(tables).toHaveLength(Object.keys(TABLES).length);
    for (const table of tables) expect(table.DeletionPolicy).toBe('Retain');
  });
});

describe('site queues', () => {
  it.each(SITE_IDS)('gives %s a queue that redrives to its dead-letter queue', (siteId) => {
    const site = stack.sites.get(siteId);
    expect(site).toBeDefined();
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: siteQueueName('winfleet-', siteId),
      VisibilityTimeout: QUEUE_SETTINGS.visibilityTimeoutSeconds,
      ReceiveMessageWaitTimeSeconds: QUEUE_SETTINGS.receiveWaitTimeSeconds,
      SqsManagedSseEnabled: true,
      RedrivePolicy: {
        deadLetterTargetArn: {
          'Fn::GetAtt': [logicalId(stack, site?.deadLetterQueue ?? stack), 'Arn'],
        },
        maxReceiveCount: QUEUE_SETTINGS.maxReceiveCount,
      },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: siteDeadLetterQueueName('winfleet-', siteId),
      MessageRetentionPeriod: QUEUE_SETTINGS.deadLetterRetentionSeconds,
    });
  });

  it.each(SITE_IDS)('alarms on dead letters and on old batches of %s', (siteId) => {
    const site = stack.sites.get(siteId);
    const queueName = (construct: unknown) => ({
      'Fn::GetAtt': [logicalId(stack, construct as WinfleetStack), 'QueueName'],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: queueName(site?.deadLetterQueue) }],
      Threshold: 1,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: queueName(site?.queue) }],
    });
  });

  it('refuses requests without TLS on every queue', () => {
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
    expect(policies).toHaveLength(SITE_IDS.length * 2);
    for (const policy of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    }
  });
});

describe('HTTP API', () => {
  it('requires IAM authorization on every route', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route'));
    expect(routes.map((r) => r.Properties.RouteKey).sort()).toEqual(
      ROUTES.map((r) => `${r.method} ${r.path}`).sort(),
    );
    for (const route of routes) expect(route.Properties.AuthorizationType).toBe('AWS_IAM');
  });

  it('logs access on its stage', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AccessLogSettings: { DestinationArn: Match.anyValue() },
    });
  });
});

describe('functions', () => {
  const handlers = [...new Set([...ROUTES, ...SCHEDULES, ...WORKERS].map((r) => r.handler))];

  it.each(handlers)('runs %s on arm64 Node 22 with the deployment prefix', (handler) => {
    const fn = stack.functions.get(handler);
    expect(fn).toBeDefined();
    const resource = template.toJSON().Resources[logicalId(stack, fn ?? stack)];
    expect(resource.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      LoggingConfig: { LogGroup: expect.anything() },
      Environment: { Variables: { WINFLEET_PREFIX: 'winfleet-' } },
    });
  });

  it('keeps each log group a month', () => {
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(groups.length).toBeGreaterThanOrEqual(handlers.length);
    for (const group of groups) expect(group.Properties.RetentionInDays).toBe(30);
  });

  it.each(handlers)('grants %s only the tables it uses', (handler) => {
    const fn = stack.functions.get(handler);
    const statements = roleStatements(logicalId(stack, fn?.role ?? stack));
    const access = functionAccess(handler);
    const used = new Set([...access.readTables, ...access.writeTables]);
    const text = JSON.stringify(statements);
    for (const key of Object.keys(TABLES) as TableKey[]) {
      expect(text.includes(tableId(key)), `${handler} and table ${key}`).toBe(used.has(key));
    }
    const writes = statements.filter((s) => [s.Action].flat().includes('dynamodb:PutItem'));
    expect(writes.length > 0).toBe(access.writeTables.length > 0);
  });

  it('lets only the dispatchers send to site queues', () => {
    const senders = [...stack.functions].filter(([, fn]) =>
      JSON.stringify(roleStatements(logicalId(stack, fn.role ?? stack))).includes(
        'sqs:SendMessage',
      ),
    );
    expect(senders.map(([handler]) => handler)).toEqual(['dispatch']);
  });

  it('lets the create route and the sweep invoke the dispatch function, and names it', () => {
    const dispatch = stack.functions.get('dispatch');
    const dispatchId = logicalId(stack, dispatch ?? stack);
    for (const [handler, fn] of stack.functions) {
      const statements = roleStatements(logicalId(stack, fn.role ?? stack));
      const invokes = statements.filter((s) => [s.Action].flat().includes('lambda:InvokeFunction'));
      const invoker = handler === 'operations-create' || handler === 'sweep';
      expect(
        invokes.map((s) => JSON.stringify(s.Resource)),
        handler,
      ).toEqual(invoker ? [JSON.stringify({ 'Fn::GetAtt': [dispatchId, 'Arn'] })] : []);
      if (!invoker) continue;
      const resource = template.toJSON().Resources[logicalId(stack, fn)];
      expect(resource.Properties.Environment.Variables.WINFLEET_DISPATCH_FUNCTION).toEqual({
        Ref: dispatchId,
      });
    }
  });
});

describe('sweep schedules', () => {
  it.each(SCHEDULES)('invokes the sweep for $operationType', (schedule) => {
    const rate = schedule.everyMinutes === 24 * 60 ? 'rate(1 day)' : 'rate(5 minutes)';
    const sweep = stack.functions.get(schedule.handler);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: rate,
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [logicalId(stack, sweep ?? stack), 'Arn'] },
          Input: JSON.stringify({ detail: { operationType: schedule.operationType } }),
        }),
      ],
    });
  });
});
