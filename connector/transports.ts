import type { Logger } from '../shared/logger.ts';
import type { ConnectorConfig } from './config.ts';
import { createPowerShellTransport } from './powershell/index.ts';
import type { Transport } from './transport.ts';
import { createWsmanTransport } from './wsman/index.ts';

/** The transport the config names (`transport.type`), with its credentials. */
export function createTransport(config: ConnectorConfig['transport'], logger: Logger): Transport {
  if (config.type === 'powershell') {
    return createPowerShellTransport({
      auth: config.auth,
      https: config.https,
      ...(config.executable ? { executable: config.executable } : {}),
      ...(config.processes ? { throttleLimit: config.processes } : {}),
      logger: logger.child({ component: 'powershell' }),
    });
  }
  return createWsmanTransport({
    auth: config.auth,
    https: config.https,
    logger: logger.child({ component: 'wsman' }),
  });
}
