import type { Message } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { BatchMessage } from '../shared/schemas/batch.ts';
import { MalformedBatchError } from './errors.ts';

/** Parses an SQS message's body as a batch for `siteId`, or throws MalformedBatchError. */
export function parseBatchMessage(message: Message, siteId: string): BatchMessage {
  let json: unknown;
  try {
    json = JSON.parse(message.Body ?? '');
  } catch (error) {
    throw new MalformedBatchError('the body is not JSON', message.MessageId, { cause: error });
  }
  const parsed = BatchMessage.safeParse(json);
  if (!parsed.success) {
    const detail = z.prettifyError(parsed.error);
    throw new MalformedBatchError(`the body is not a batch: ${detail}`, message.MessageId, {
      cause: parsed.error,
    });
  }
  if (parsed.data.siteId !== siteId) {
    throw new MalformedBatchError(
      `the batch is for site ${parsed.data.siteId}, this connector serves ${siteId}`,
      message.MessageId,
    );
  }
  return parsed.data;
}
