import type { Logger } from '../shared/logger.ts';
import type { ConnectorConfig } from './config.ts';
import type { Transport } from './transport.ts';
import { createWsmanTransport } from './wsman/index.ts';

/** The transport the config names, with its credentials. */
export function createTransport(config: ConnectorConfig['transport'], logger: Logger): Transport {
  return createWsmanTransport({
    auth: config.auth,
    https: config.https,
    logger: logger.child({ component: 'wsman' }),
  });
}
