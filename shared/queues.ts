/** SQS settings for the per-site queues, used by CDK and the embedded stack alike. */
export const QUEUE_SETTINGS = {
  /** Long enough for a batch to start; the connector extends it with heartbeats while it runs. */
  visibilityTimeoutSeconds: 60,
  /** Receives before a message moves to the dead-letter queue. */
  maxReceiveCount: 5,
  receiveWaitTimeSeconds: 20,
  messageRetentionSeconds: 4 * 24 * 3600,
  deadLetterRetentionSeconds: 14 * 24 * 3600,
  /** SQS's own limit on one message body. */
  maxMessageBytes: 256 * 1024,
  /**
   * Devices in one batch at most; a site gets several batches beyond this. Each batch costs one
   * message, one result item and one metrics item, so larger batches cost less; 250 devices
   * keep a message near 35 KiB and a status batch's result item near 10 KiB.
   */
  maxDevicesPerBatch: 250,
} as const;

/** The queue of one site's work. */
export function siteQueueName(prefix: string, siteId: string): string {
  return `${prefix}site-${siteId}`;
}

/** The dead-letter queue behind a site's queue. */
export function siteDeadLetterQueueName(prefix: string, siteId: string): string {
  return `${prefix}site-${siteId}-dlq`;
}
