import { describe, expect, it } from 'vitest';
import { createLogger } from '../shared/logger.ts';
import { resolveConnectorConfig } from './config.ts';
import { ConnectorConfigError } from './errors.ts';
import { PowerShellUnavailableError } from './powershell/index.ts';
import { createTransport } from './transports.ts';
import { WsmanUnreachableError } from './wsman/index.ts';

const logger = createLogger('transports-test', { level: 'silent' });
const base = { siteId: 'site-alpha', dataDir: '.' };
const device = { deviceId: 'ws1', computerName: 'WS1', address: '127.16.0.9', port: 1 };

function configWith(transport: unknown) {
  return resolveConnectorConfig({ ...base, transport }, '/etc/winfleet/connector.json', {
    WINFLEET_WINRM_PASSWORD: 'from-env',
  });
}

describe('createTransport', () => {
  it('builds the PowerShell transport when the site config says powershell', async () => {
    const config = configWith({
      type: 'powershell',
      auth: { type: 'negotiate', user: 'DOM\\svc' },
      executable: 'winfleet-no-such-pwsh',
    });
    const transport = createTransport(config.transport, logger);

    const run = transport.run(device, 'x', { timeoutMs: 5_000 });

    expect(config.transport.auth.password).toBe('from-env');
    await expect(run).rejects.toBeInstanceOf(PowerShellUnavailableError);
    await transport.close();
  });

  it('builds the WS-Management transport for wsman', async () => {
    const config = configWith({ type: 'wsman', auth: { type: 'basic', user: 'u', password: 'p' } });
    const transport = createTransport(config.transport, logger);

    const run = transport.run(device, 'x', { timeoutMs: 5_000 });

    await expect(run).rejects.toBeInstanceOf(WsmanUnreachableError);
    await transport.close();
  });

  it('rejects an unknown transport type and unknown keys', () => {
    expect(() => configWith({ type: 'ssh', auth: { type: 'basic', user: 'u' } })).toThrow(
      ConnectorConfigError,
    );
    expect(() =>
      configWith({ type: 'powershell', auth: { type: 'basic', user: 'u' }, pool: 3 }),
    ).toThrow(ConnectorConfigError);
  });
});
