import { GetQueueAttributesCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { BatchMessage } from '../../shared/schemas/batch.ts';

/** A status batch of `count` devices named `<prefix>-<n>`. */
export function statusBatch(
  operationId: string,
  count: number,
  overrides: Partial<BatchMessage> = {},
): BatchMessage {
  return {
    version: 1,
    operationId,
    batchId: `${operationId}-b1`,
    siteId: 'site-a',
    type: 'status',
    parameters: {},
    rateControl: {},
    force: false,
    operationTotal: count,
    createdAt: new Date().toISOString(),
    devices: Array.from({ length: count }, (_, i) => ({
      deviceId: `${operationId}-dev-${i}`,
      computerName: `DEV-${i}`,
      address: '127.12.0.1',
      port: 5985,
    })),
    ...overrides,
  };
}

export async function sendBody(sqs: SQSClient, queueUrl: string, body: string): Promise<void> {
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
}

/** Messages on the queue, visible or in flight. */
export async function messagesOnQueue(sqs: SQSClient, queueUrl: string): Promise<number> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  const a = out.Attributes ?? {};
  return (
    Number(a.ApproximateNumberOfMessages ?? 0) +
    Number(a.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/** Polls `check` until it returns true; fails after `attempts` tries. */
export async function eventually(check: () => Promise<boolean> | boolean, attempts = 200) {
  for (let i = 0; i < attempts; i += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('condition not met');
}
