import type { DeviceFaults } from './types.ts';

/** What a simulated program sees of the device and the command it runs in. */
export interface ProgramHost {
  computerName: string;
  userName: string;
  address: string;
  faults: DeviceFaults;
  signal: AbortSignal;
  out(text: string): void;
  err(text: string): void;
  /** Waits for real; resolves early when the command is stopped. */
  sleep(ms: number): Promise<void>;
  /** Service states the service script changed on this device, by lower-case name. */
  serviceStates: Map<string, string>;
  /** The whole of stdin, once the client has ended it. */
  readStdin(): Promise<string>;
}
