import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CloudEnv } from './config.ts';

/** Local emulators accept any credentials; AWS uses the default provider chain. */
function localCredentials(endpoint: string | undefined) {
  return endpoint ? { accessKeyId: 'local', secretAccessKey: 'local' } : undefined;
}

/** A DynamoDB document client for the environment (emulator or AWS). */
export function createDocumentClient(env: CloudEnv): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
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
export function createSqsClient(env: CloudEnv): SQSClient {
  return new SQSClient({
    region: env.AWS_REGION,
    endpoint: env.WINFLEET_SQS_ENDPOINT,
    credentials: localCredentials(env.WINFLEET_SQS_ENDPOINT),
    maxAttempts: 5,
  });
}
