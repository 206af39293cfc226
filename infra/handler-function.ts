import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** The repository root: NodejsFunction bundles from here, with its package-lock.json. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The module serving a handler: `functions/handlers/<handler>.ts`, exporting `handler`. */
export function handlerEntry(handler: string): string {
  return fileURLToPath(new URL(`../functions/handlers/${handler}.ts`, import.meta.url));
}

export interface HandlerFunctionProps {
  /** Handler module name, as in `shared/routes.ts`. */
  handler: string;
  /** Resolves the handler's source file. Default: `handlerEntry`. */
  entry?: (handler: string) => string;
  environment: Record<string, string>;
  /** Days of logs kept. Default: one month. */
  logRetention?: RetentionDays;
  /** Default: 10 seconds. */
  timeoutSeconds?: number;
}

/** One Lambda handler, bundled by the local esbuild (no Docker) as an ESM file for arm64. */
export function createHandlerFunction(
  scope: Construct,
  id: string,
  props: HandlerFunctionProps,
): NodejsFunction {
  const logGroup = new LogGroup(scope, `${id}Logs`, {
    retention: props.logRetention ?? RetentionDays.ONE_MONTH,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  // Our own role instead of AWSLambdaBasicExecutionRole: writes to its own log group only.
  const role = new Role(scope, `${id}Role`, {
    assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
  });
  logGroup.grantWrite(role);
  return new NodejsFunction(scope, id, {
    role,
    entry: (props.entry ?? handlerEntry)(props.handler),
    handler: 'handler',
    projectRoot: PROJECT_ROOT,
    runtime: Runtime.NODEJS_22_X,
    architecture: Architecture.ARM_64,
    memorySize: 512,
    timeout: Duration.seconds(props.timeoutSeconds ?? 10),
    logGroup,
    environment: props.environment,
    bundling: {
      format: OutputFormat.ESM,
      target: 'node22',
      sourceMap: true,
      minify: true,
      mainFields: ['module', 'main'],
      // CommonJS dependencies bundled into an ES module still call require for built-ins.
      banner:
        "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      forceDockerBundling: false,
    },
  });
}
