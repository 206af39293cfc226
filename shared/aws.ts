import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CloudEnv } from './config.ts';

/** Local emulators accept any credentials; AWS uses the default provider chain. */
function localCredentials(endpoint: string | undefined) {
  return endpoint ? { accessKeyId: 'local', secretAccessKey: 'local' } : undefined;
}

/**
 * Per-request limits for a long-running process: without them a request into a network that
 * silently drops packets waits forever. Unset: the SDK's defaults (no limit).
 */
export interface CloudTimeouts {
  connectionTimeoutMs: number;
  /** Longer than any long poll (SQS waits up to 20 s). */
  requestTimeoutMs: number;
}

function requestHandler(timeouts: CloudTimeouts | undefined) {
  if (!timeouts) return undefined;
  return {
    connectionTimeout: timeouts.connectionTimeoutMs,
    requestTimeout: timeouts.requestTimeoutMs,
    throwOnRequestTimeout: true,
  };
}

/** A DynamoDB document client for the environment (emulator or AWS). */
export function createDocumentClient(
  env: CloudEnv,
  timeouts?: CloudTimeouts,
): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    requestHandler: requestHandler(timeouts),
    region: env.AWS_REGION,
    endpoint: env.WINFLEET_DYNAMODB_ENDPOINT,
    credentials: localCredentials(env.WINFLEET_DYNAMODB_ENDPOINT),
    maxAttempts: 5,
  });
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}

/** An SQS client for the environment (emulator or AWS). */
export function createSqsClient(env: CloudEnv, timeouts?: CloudTimeouts): SQSClient {
  return new SQSClient({
    requestHandler: requestHandler(timeouts),
    region: env.AWS_REGION,
    endpoint: env.WINFLEET_SQS_ENDPOINT,
    credentials: localCredentials(env.WINFLEET_SQS_ENDPOINT),
    maxAttempts: 5,
  });
}
