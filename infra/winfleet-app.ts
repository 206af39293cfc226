import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type App, Validations } from 'aws-cdk-lib';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PROJECT_ROOT } from './handler-function.ts';
import { acknowledgeNagFindings } from './nag-acknowledgements.ts';
import { loadSites } from './sites-config.ts';
import { WinfleetStack } from './winfleet-stack.ts';

/**
 * Context values (`cdk synth -c name=value`), all optional:
 * - `sitesFile`: the sites configuration, relative to the repository. Default: infra/sites.json.
 * - `prefix`: physical name prefix of tables and queues. Default: winfleet-.
 * - `connectorCaFile`: PEM bundle of the CA issuing connector certificates.
 * - `trustAnchorArn`: an existing Roles Anywhere trust anchor, instead of `connectorCaFile`.
 * - `alarmTopicArn`: an SNS topic that queue alarms notify.
 */
export const CONTEXT_KEYS = [
  'sitesFile',
  'prefix',
  'connectorCaFile',
  'trustAnchorArn',
  'alarmTopicArn',
] as const;

export interface WinfleetAppOptions {
  /** Overrides where handler sources are found (tests). */
  handlerEntry?: (handler: string) => string;
}

/** Adds the winfleet stack to `app` from its context, with cdk-nag's AwsSolutions checks. */
export function addWinfleet(app: App, options: WinfleetAppOptions = {}): WinfleetStack {
  const context = (key: (typeof CONTEXT_KEYS)[number]): string | undefined => {
    const value: unknown = app.node.tryGetContext(key);
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const sitesFile = resolve(PROJECT_ROOT, context('sitesFile') ?? 'infra/sites.json');
  const caFile = context('connectorCaFile');
  const stack = new WinfleetStack(app, 'Winfleet', {
    prefix: context('prefix'),
    sites: loadSites(sitesFile),
    handlerEntry: options.handlerEntry,
    connectorCaCertificatePem: caFile
      ? readFileSync(resolve(PROJECT_ROOT, caFile), 'utf8')
      : undefined,
    trustAnchorArn: context('trustAnchorArn'),
  });
  const topicArn = context('alarmTopicArn');
  if (topicArn) {
    const topic = Topic.fromTopicArn(stack, 'AlarmTopic', topicArn);
    for (const site of stack.sites.values()) site.addAlarmAction(new SnsAction(topic));
  }
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  acknowledgeNagFindings(stack);
  return stack;
}
