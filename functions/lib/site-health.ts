import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { CloudEnv } from '../../shared/config.ts';
import type { Logger } from '../../shared/logger.ts';
import { siteQueueUrl } from './site-queues.ts';

export interface QueueDepth {
  queueDepth?: number;
  queueInFlight?: number;
}

/**
 * The depth of a site's queue from SQS's approximate counts. A queue that cannot be read
 * yields no numbers rather than failing the listing of every site.
 */
export async function siteQueueDepth(
  sqs: SQSClient,
  env: CloudEnv,
  siteId: string,
  logger: Logger,
): Promise<QueueDepth> {
  try {
    const out = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: await siteQueueUrl(sqs, env, siteId),
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return {
      queueDepth: count(out.Attributes?.ApproximateNumberOfMessages),
      queueInFlight: count(out.Attributes?.ApproximateNumberOfMessagesNotVisible),
    };
  } catch (error) {
    logger.warn({ err: error, siteId }, 'queue depth unreadable');
    return {};
  }
}

function count(value: string | undefined): number | undefined {
  const n = Number(value);
  return value !== undefined && Number.isInteger(n) ? n : undefined;
}
