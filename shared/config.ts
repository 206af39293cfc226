import { z } from 'zod';

/**
 * Where the cloud side lives, read from the environment by Lambda handlers and connectors.
 * In AWS the endpoints are unset and the SDK's defaults apply; locally they point at the
 * emulators.
 */
export const CloudEnv = z.object({
  WINFLEET_PREFIX: z
    .string()
    .regex(/^[a-z0-9-]*$/)
    .default('winfleet-'),
  AWS_REGION: z.string().default('us-east-1'),
  WINFLEET_DYNAMODB_ENDPOINT: z.url().optional(),
  WINFLEET_SQS_ENDPOINT: z.url().optional(),
  /**
   * The Lambda function that dispatches operations, invoked asynchronously by the create route
   * and the sweep. Unset (locally): the dispatch runs in the background of the same process.
   */
  WINFLEET_DISPATCH_FUNCTION: z.string().min(1).optional(),
});
export type CloudEnv = z.infer<typeof CloudEnv>;

/** Parses the cloud settings from an environment, failing with every problem named. */
export function readCloudEnv(env: NodeJS.ProcessEnv = process.env): CloudEnv {
  return CloudEnv.parse(env);
}
