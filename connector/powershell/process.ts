import type { InvocationOutput } from './output.ts';

/** One long-lived local PowerShell process that runs commands one at a time. */
export interface PowerShellProcess {
  invoke(command: string): Promise<InvocationOutput>;
  /** Ends the process (its PSSessions go with it). */
  dispose(): Promise<void>;
}

export type PowerShellProcessFactory = () => PowerShellProcess;
