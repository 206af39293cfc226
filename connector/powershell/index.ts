import { z } from 'zod';
import type { Logger } from '../../shared/logger.ts';
import type { DeviceTarget } from '../../shared/schemas/device.ts';
import type { CommandOutcome, RunOptions, Transport } from '../transport.ts';
import { livePowerShellFactory } from './live-process.ts';
import { parseInvocationOutput } from './output.ts';
import type { PowerShellProcessFactory } from './process.ts';
import { invocationCommand, type SessionSettings } from './script.ts';
import { type Lease, WorkerPool } from './worker-pool.ts';

export * from './errors.ts';
export { type InvocationOutput, parseInvocationOutput } from './output.ts';
export type { PowerShellProcess, PowerShellProcessFactory } from './process.ts';
export {
  base64Expression,
  invocationCommand,
  quoteLiteral,
  RESULT_MARKER,
  type SessionSettings,
} from './script.ts';

const Options = z.strictObject({
  auth: z.discriminatedUnion('type', [
    z.strictObject({
      type: z.enum(['basic', 'negotiate', 'kerberos']),
      user: z.string().min(1),
      password: z.string(),
    }),
    z.strictObject({ type: z.literal('default') }),
  ]),
  https: z.boolean().default(false),
  skipCertificateChecks: z.boolean().default(false),
  operationTimeoutSeconds: z.number().int().min(1).max(3600).default(60),
  throttleLimit: z.number().int().min(1).max(256).default(8),
  maxSessionsPerDevice: z.number().int().min(1).default(2),
  maxSessionsPerWorker: z.number().int().min(1).default(64),
  executable: z.string().min(1).optional(),
  logger: z.custom<Logger>().optional(),
});

export interface PowerShellTransportOptions {
  /** How PSSessions authenticate; `default` uses the connector service account. */
  auth:
    | { type: 'basic' | 'negotiate' | 'kerberos'; user: string; password: string }
    | { type: 'default' };
  /** -UseSSL; default false. */
  https?: boolean;
  /** -SkipCACheck -SkipCNCheck; default false (labs only). */
  skipCertificateChecks?: boolean;
  /** PSSession OperationTimeout; default 60 s. */
  operationTimeoutSeconds?: number;
  /** Local PowerShell processes, so invocations at once; default 8. */
  throttleLimit?: number;
  /** Processes holding a PSSession to one device; default 2. */
  maxSessionsPerDevice?: number;
  /** PSSessions one process keeps before closing the least recently used; default 64. */
  maxSessionsPerWorker?: number;
  /** `pwsh` or `powershell` (name on PATH or a path); by platform by default. */
  executable?: string;
  logger?: Logger;
}

class DeadlineReached extends Error {}

/**
 * A `Transport` for connectors on Windows hosts: Invoke-Command in PSSessions that local
 * PowerShell processes (node-powershell) keep per device. `processFactory` replaces the live
 * processes in tests. Past the deadline the process running the command is ended (its sessions
 * with it) and the outcome is `TimedOut` with no output: node-powershell returns nothing until
 * an invocation ends.
 */
export function createPowerShellTransport(
  input: PowerShellTransportOptions,
  processFactory?: PowerShellProcessFactory,
): Transport {
  const options = Options.parse(input);
  const settings: SessionSettings = {
    auth: options.auth,
    https: options.https,
    skipCertificateChecks: options.skipCertificateChecks,
    operationTimeoutMs: options.operationTimeoutSeconds * 1000,
  };
  const pool = new WorkerPool(processFactory ?? livePowerShellFactory(options.executable), {
    maxWorkers: options.throttleLimit,
    maxSessionsPerDevice: options.maxSessionsPerDevice,
    maxSessionsPerWorker: options.maxSessionsPerWorker,
  });
  return {
    run: (device, script, runOptions) =>
      runInSession(pool, settings, device, script, runOptions, options.logger),
    close: () => pool.close(),
  };
}

async function runInSession(
  pool: WorkerPool,
  settings: SessionSettings,
  device: DeviceTarget,
  script: string,
  options: RunOptions,
  logger: Logger | undefined,
): Promise<CommandOutcome> {
  const guard = new AbortController();
  const timer = setTimeout(() => guard.abort(new DeadlineReached()), options.timeoutMs);
  const onCallerAbort = () => guard.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  if (options.signal?.aborted) onCallerAbort();
  const key = `${device.address}:${device.port}`;
  try {
    const lease = await pool.acquire(key, guard.signal);
    const target = { key, address: device.address, port: device.port };
    const command = invocationCommand({ target, settings, script, evictKeys: lease.evictKeys });
    return await invokeLeased(pool, lease, key, command, guard.signal, device.deviceId);
  } catch (error) {
    if (guard.signal.reason instanceof DeadlineReached) {
      logger?.debug({ deviceId: device.deviceId }, 'powershell deadline reached');
      return { state: 'TimedOut', exitCode: undefined, stdout: '', stderr: '' };
    }
    throw guard.signal.aborted ? guard.signal.reason : error;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onCallerAbort);
  }
}

/** Runs the command in the leased process; an abort ends (disposes) that process. */
async function invokeLeased(
  pool: WorkerPool,
  lease: Lease,
  key: string,
  command: string,
  signal: AbortSignal,
  deviceId: string,
): Promise<CommandOutcome> {
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  let healthy = true;
  try {
    const output = await Promise.race([lease.worker.process.invoke(command), aborted]);
    return parseInvocationOutput(output, { deviceId });
  } catch (error) {
    if (signal.aborted) healthy = false;
    else pool.forget(lease.worker, key);
    throw error;
  } finally {
    await pool.release(lease.worker, healthy);
  }
}
