import type { DeviceTarget } from '../shared/schemas/device.ts';

/** How a script run on one device ended, before it is mapped to a result state. */
export interface CommandOutcome {
  /** `Completed` when the command reported Done; `TimedOut` when the deadline ended it. */
  state: 'Completed' | 'TimedOut';
  /** The process's exit code; undefined when the host did not report one (unknown, never 0). */
  exitCode: number | undefined;
  stdout: string;
  /** Error text: plain stderr, or the `S="Error"` lines of PowerShell CLIXML. */
  stderr: string;
  /** Warning, verbose and progress records kept apart from the error text. */
  streams?: { warning: string[]; verbose: string[]; progress: string[] };
}

export interface RunOptions {
  /** The per-device deadline: past it the command is terminated and the outcome is TimedOut. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * A way to run PowerShell on a device: WS-Management from any host (`wsman/`), or
 * node-powershell where the connector host is Windows (`powershell/`).
 * Failures to reach or talk to the device throw errors from the transport's `errors.ts`,
 * each classed as unreachable (connection refused, DNS, connect timeout) or failed.
 */
export interface Transport {
  run(device: DeviceTarget, script: string, options: RunOptions): Promise<CommandOutcome>;
  /** Closes every shell and connection the transport holds. */
  close(): Promise<void>;
}
