import { CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { HttpApi, HttpMethod, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnTrustAnchor } from 'aws-cdk-lib/aws-rolesanywhere';
import type { Construct } from 'constructs';
import { ROUTES, SCHEDULES, WORKERS } from '../shared/routes.ts';
import type { Site } from '../shared/schemas/site.ts';
import { FUNCTION_ACCESS, type FunctionAccess, functionAccess } from './function-access.ts';
import { createHandlerFunction, handlerEntry } from './handler-function.ts';
import { SiteResources } from './site-resources.ts';
import { WinfleetTables } from './tables.ts';

export interface WinfleetStackProps extends StackProps {
  /** Prefix of every physical table and queue name. Default: `winfleet-`. */
  prefix?: string;
  /** The sites, each with its own queue and connector identity. */
  sites: readonly Site[];
  /** Resolves a handler's source file. Default: `functions/handlers/<handler>.ts`. */
  handlerEntry?: (handler: string) => string;
  /**
   * PEM bundle of the CA that issues connector certificates. When given, the stack creates the
   * Roles Anywhere trust anchor; otherwise `trustAnchorArn` names an existing one, or, with
   * neither, connector roles trust any anchor of the account (still bound to the site's name).
   */
  connectorCaCertificatePem?: string;
  trustAnchorArn?: string;
}

/** The whole control plane: tables, site queues, handlers, HTTP API, sweeps, connector roles. */
export class WinfleetStack extends Stack {
  readonly tables: WinfleetTables;
  readonly sites: ReadonlyMap<string, SiteResources>;
  readonly functions: ReadonlyMap<string, NodejsFunction>;
  readonly api: HttpApi;

  constructor(scope: Construct, id: string, props: WinfleetStackProps) {
    super(scope, id, props);
    const prefix = props.prefix ?? 'winfleet-';
    this.tables = new WinfleetTables(this, 'Tables', { prefix });
    this.sites = this.addSites(prefix, props);
    this.functions = this.addFunctions(prefix, props.handlerEntry ?? handlerEntry);
    this.wireWorkers();
    this.api = this.addApi();
    this.addSchedules();
    new CfnOutput(this, 'ApiUrl', { value: this.api.apiEndpoint });
  }

  private addSites(prefix: string, props: WinfleetStackProps): Map<string, SiteResources> {
    const trustAnchorArn = this.trustAnchorArn(prefix, props);
    const tableArns = this.tables.arns();
    const sites = new Map<string, SiteResources>();
    for (const site of props.sites) {
      const resources = new SiteResources(this, `Site-${site.siteId}`, {
        prefix,
        site,
        tableArns,
        trustAnchorArn,
      });
      new CfnOutput(this, `ConnectorRole-${site.siteId}`, {
        value: resources.connectorRole.roleArn,
      });
      new CfnOutput(this, `ConnectorProfile-${site.siteId}`, {
        value: resources.connectorProfileArn,
      });
      sites.set(site.siteId, resources);
    }
    return sites;
  }

  /** The anchor made from the CA bundle, or the existing one named, or none. */
  private trustAnchorArn(prefix: string, props: WinfleetStackProps): string | undefined {
    if (!props.connectorCaCertificatePem) return props.trustAnchorArn;
    const anchor = new CfnTrustAnchor(this, 'ConnectorTrustAnchor', {
      name: `${prefix}connectors`,
      enabled: true,
      source: {
        sourceType: 'CERTIFICATE_BUNDLE',
        sourceData: { x509CertificateData: props.connectorCaCertificatePem },
      },
    });
    new CfnOutput(this, 'ConnectorTrustAnchorArn', { value: anchor.attrTrustAnchorArn });
    return anchor.attrTrustAnchorArn;
  }

  /** One function per handler module named by a route, a schedule or a worker. */
  private addFunctions(prefix: string, entry: (handler: string) => string) {
    const handlers = new Set([...ROUTES, ...SCHEDULES, ...WORKERS].map((r) => r.handler));
    const functions = new Map<string, NodejsFunction>();
    for (const handler of handlers) {
      const access = functionAccess(handler);
      const fn = createHandlerFunction(this, `Fn-${handler}`, {
        handler,
        entry,
        // Planning and sending batches for a whole fleet takes longer than answering a read.
        timeoutSeconds: access.sendToSiteQueues ? 60 : 10,
        environment: {
          WINFLEET_PREFIX: prefix,
          WINFLEET_HANDLER: `functions/handlers/${handler}`,
        },
      });
      if (!(handler in FUNCTION_ACCESS)) {
        Validations.of(fn).addWarning(
          'winfleet:UnlistedHandler',
          `${handler} is not in infra/function-access.ts: it may only read its area's table`,
        );
      }
      this.grantAccess(access, fn);
      functions.set(handler, fn);
    }
    return functions;
  }

  /** Lets each worker's invokers invoke it, and tells them its name. */
  private wireWorkers(): void {
    for (const worker of WORKERS) {
      const target = this.handlerFunction(worker.handler);
      for (const invoker of worker.invokedBy) {
        const fn = this.handlerFunction(invoker);
        // Not grantInvoke: its `arn:*` for versions and aliases is a wildcard cdk-nag flags.
        fn.addToRolePolicy(
          new PolicyStatement({
            actions: ['lambda:InvokeFunction'],
            resources: [target.functionArn],
          }),
        );
        fn.addEnvironment(worker.environmentVariable, target.functionName);
      }
    }
  }

  private grantAccess(access: FunctionAccess, fn: NodejsFunction): void {
    for (const key of access.readTables) this.tables.grant(fn, key, 'read');
    for (const key of access.writeTables) this.tables.grant(fn, key, 'write');
    for (const site of this.sites.values()) {
      if (access.sendToSiteQueues) site.queue.grantSendMessages(fn);
      if (access.readSiteQueues) grantQueueAttributes(site, fn);
    }
  }

  private addApi(): HttpApi {
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', {
      retention: RetentionDays.ONE_MONTH,
    });
    const api = new HttpApi(this, 'Api', {
      description: 'winfleet control plane',
      defaultAuthorizer: new HttpIamAuthorizer(),
      createDefaultStage: false,
    });
    api.addStage('Stage', {
      stageName: '$default',
      autoDeploy: true,
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs) },
      throttle: { rateLimit: 50, burstLimit: 100 },
    });
    for (const route of ROUTES) {
      api.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration: new HttpLambdaIntegration(
          `${route.method}${route.path}`,
          this.handlerFunction(route.handler),
        ),
      });
    }
    return api;
  }

  private addSchedules(): void {
    for (const schedule of SCHEDULES) {
      new Rule(this, `Schedule-${schedule.name}`, {
        description: `winfleet ${schedule.operationType} sweep`,
        schedule: Schedule.rate(Duration.minutes(schedule.everyMinutes)),
        targets: [
          new LambdaFunction(this.handlerFunction(schedule.handler), {
            event: RuleTargetInput.fromObject({
              detail: { operationType: schedule.operationType },
            }),
            retryAttempts: 2,
          }),
        ],
      });
    }
  }

  private handlerFunction(handler: string): NodejsFunction {
    const fn = this.functions.get(handler);
    if (!fn) throw new Error(`no function for handler ${handler}`);
    return fn;
  }
}

function grantQueueAttributes(site: SiteResources, fn: NodejsFunction): void {
  for (const queue of [site.queue, site.deadLetterQueue]) {
    queue.grant(fn, 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl');
  }
}
