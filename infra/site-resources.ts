import { Duration, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  type IAlarmAction,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { Policy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnProfile } from 'aws-cdk-lib/aws-rolesanywhere';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { QUEUE_SETTINGS, siteDeadLetterQueueName, siteQueueName } from '../shared/queues.ts';
import type { Site } from '../shared/schemas/site.ts';
import type { TableKey } from '../shared/tables.ts';
import { connectorStatements } from './connector-access.ts';

export interface SiteResourcesProps {
  prefix: string;
  site: Site;
  tableArns: Record<TableKey, string>;
  /** The Roles Anywhere trust anchor that vouches for connector certificates, when known. */
  trustAnchorArn?: string;
  /** Alarm when the oldest queued batch is older than this. Default: 900 (15 minutes). */
  oldestMessageAlarmSeconds?: number;
}

/** The X.509 common name a site's connector certificate carries. */
export function connectorCommonName(prefix: string, siteId: string): string {
  return `${prefix}connector-${siteId}`;
}

/**
 * One site: its queue and dead-letter queue with alarms, and the identity its connector uses.
 *
 * The connector runs on a host in the site's own network, outside AWS. It gets temporary
 * credentials from IAM Roles Anywhere by presenting an X.509 certificate issued for this site,
 * rather than holding an IAM user's access keys: nothing long-lived to leak or rotate by hand,
 * the certificate's private key can stay in the host's certificate store or a TPM, and revoking
 * the certificate cuts the site off.
 */
export class SiteResources extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly connectorRole: Role;
  readonly alarms: readonly Alarm[];
  /** The Roles Anywhere profile the connector names when it asks for credentials. */
  readonly connectorProfileArn: string;

  constructor(scope: Construct, id: string, props: SiteResourcesProps) {
    super(scope, id);
    const { prefix, site } = props;
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      queueName: siteDeadLetterQueueName(prefix, site.siteId),
      retentionPeriod: Duration.seconds(QUEUE_SETTINGS.deadLetterRetentionSeconds),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.queue = new Queue(this, 'Queue', {
      queueName: siteQueueName(prefix, site.siteId),
      visibilityTimeout: Duration.seconds(QUEUE_SETTINGS.visibilityTimeoutSeconds),
      receiveMessageWaitTime: Duration.seconds(QUEUE_SETTINGS.receiveWaitTimeSeconds),
      retentionPeriod: Duration.seconds(QUEUE_SETTINGS.messageRetentionSeconds),
      maxMessageSizeBytes: QUEUE_SETTINGS.maxMessageBytes,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: {
        queue: this.deadLetterQueue,
        maxReceiveCount: QUEUE_SETTINGS.maxReceiveCount,
      },
    });
    this.alarms = this.addAlarms(props);
    this.connectorRole = this.addConnectorIdentity(props);
    this.connectorProfileArn = new CfnProfile(this, 'ConnectorProfile', {
      name: connectorCommonName(prefix, site.siteId),
      roleArns: [this.connectorRole.roleArn],
      durationSeconds: 3600,
      enabled: true,
    }).attrProfileArn;
  }

  private addAlarms(props: SiteResourcesProps): Alarm[] {
    const { siteId } = props.site;
    const deadLetters = new Alarm(this, 'DeadLetterAlarm', {
      alarmDescription: `Batches for site ${siteId} failed ${QUEUE_SETTINGS.maxReceiveCount} times`,
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    const oldest = new Alarm(this, 'OldestMessageAlarm', {
      alarmDescription: `Site ${siteId}'s connector is not taking its batches`,
      metric: this.queue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: props.oldestMessageAlarmSeconds ?? 900,
      evaluationPeriods: 3,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    return [deadLetters, oldest];
  }

  /** Notifies `action` when either of the site's alarms fires. */
  addAlarmAction(action: IAlarmAction): void {
    for (const alarm of this.alarms) alarm.addAlarmAction(action);
  }

  private addConnectorIdentity(props: SiteResourcesProps): Role {
    const { site } = props;
    // Only a certificate issued for this site's connector, vouched for by our trust anchor,
    // may assume the role; Roles Anywhere also needs to tag the session and set its identity.
    const conditions = trustConditions(this, props);
    const principal = new ServicePrincipal('rolesanywhere.amazonaws.com');
    const role = new Role(this, 'ConnectorRole', {
      description: `The connector of site ${site.siteId}, through IAM Roles Anywhere`,
      assumedBy: principal.withConditions(conditions),
      maxSessionDuration: Duration.hours(1),
    });
    role.assumeRolePolicy?.addStatements(
      new PolicyStatement({
        actions: ['sts:TagSession', 'sts:SetSourceIdentity'],
        principals: [principal],
        conditions,
      }),
    );
    const policy = new Policy(this, 'ConnectorPolicy', {
      statements: connectorStatements(
        site.siteId,
        { queueArn: this.queue.queueArn, deadLetterQueueArn: this.deadLetterQueue.queueArn },
        props.tableArns,
      ),
    });
    role.attachInlinePolicy(policy);
    return role;
  }
}

function trustConditions(scope: Construct, props: SiteResourcesProps) {
  const commonName = connectorCommonName(props.prefix, props.site.siteId);
  const stringEquals: Record<string, string> = { 'aws:PrincipalTag/x509Subject/CN': commonName };
  if (!props.trustAnchorArn) {
    // No anchor known at synth time: any anchor of this account, still bound to the name.
    stringEquals['aws:SourceAccount'] = Stack.of(scope).account;
    return { StringEquals: stringEquals };
  }
  return { StringEquals: stringEquals, ArnEquals: { 'aws:SourceArn': props.trustAnchorArn } };
}
