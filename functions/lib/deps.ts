import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient, createSqsClient } from '../../shared/aws.ts';
import { type CloudEnv, readCloudEnv } from '../../shared/config.ts';
import { createLogger, type Logger } from '../../shared/logger.ts';

/** What every handler needs: its settings, its AWS clients and the base logger. */
export interface Deps {
  env: CloudEnv;
  doc: DynamoDBDocumentClient;
  sqs: SQSClient;
  logger: Logger;
}

const cache = new Map<string, Deps>();

/**
 * The handlers' dependencies for the current environment, built once per distinct setting (a
 * Lambda container keeps them across invocations; the local stack and tests may point
 * `process.env` at other emulators between invocations).
 */
export function getDeps(source: NodeJS.ProcessEnv = process.env): Deps {
  const env = readCloudEnv(source);
  const key = JSON.stringify(env);
  let deps = cache.get(key);
  if (!deps) {
    deps = {
      env,
      doc: createDocumentClient(env),
      sqs: createSqsClient(env),
      logger: createLogger('functions'),
    };
    cache.set(key, deps);
  }
  return deps;
}
