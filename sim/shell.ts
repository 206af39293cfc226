import { randomUUID } from 'node:crypto';
import type { SimCommand } from './command.ts';

/** One WinRS shell on a simulated device. */
export class SimShell {
  readonly id = randomUUID().toUpperCase();
  readonly commands = new Map<string, SimCommand>();
  /** Commands ever started here: the operation budget, never given back. */
  commandsStarted = 0;
  private readonly idleTimer: NodeJS.Timeout;

  constructor(
    readonly owner: string,
    readonly codePage: number,
    readonly idleTimeoutMs: number,
    onIdle: (shell: SimShell) => void,
  ) {
    this.idleTimer = setTimeout(() => onIdle(this), idleTimeoutMs);
    this.idleTimer.unref();
  }

  /** Restarts the idle clock: the client did something with this shell. */
  touch(): void {
    this.idleTimer.refresh();
  }

  /** Stops every command and the idle clock; the device forgets the shell. */
  dispose(): SimCommand[] {
    clearTimeout(this.idleTimer);
    const commands = [...this.commands.values()];
    for (const command of commands) command.stop();
    this.commands.clear();
    return commands;
  }
}
