import { writeFileSync } from 'node:fs';
import { ConnectorConfigFile } from '../connector/config.ts';
import type { CloudEnv } from '../shared/config.ts';
import type { Site } from '../shared/schemas/site.ts';
import type { StackPaths } from './layout.ts';

type SitePaths = ReturnType<StackPaths['site']>;

/**
 * Writes the config file of one site's connector, validated by the connector's own schema so
 * that a mistake here fails at start-up rather than in a restart loop. The file holds the WinRM
 * password, so only its owner can read it.
 */
export function writeConnectorConfig(
  paths: SitePaths,
  site: Site,
  env: CloudEnv,
  queueUrl: string,
  winrm: { user: string; password: string },
): void {
  const config = ConnectorConfigFile.parse({
    siteId: site.siteId,
    dataDir: paths.dir,
    prefix: env.WINFLEET_PREFIX,
    region: env.AWS_REGION,
    dynamodbEndpoint: env.WINFLEET_DYNAMODB_ENDPOINT,
    sqsEndpoint: env.WINFLEET_SQS_ENDPOINT,
    queueUrl,
    throttleLimit: site.throttleLimit,
    defaultTimeoutSeconds: site.timeoutSeconds,
    syncIntervalSeconds: site.syncInterval,
    queuedActions: site.queuedActions,
    transport: {
      type: 'wsman',
      auth: { type: 'basic', user: winrm.user, password: winrm.password },
    },
  });
  writeFileSync(paths.connectorConfig, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}
