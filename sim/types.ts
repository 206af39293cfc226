import type { Logger } from '../shared/logger.ts';

/** Faults injected into one simulated device. */
export interface DeviceFaults {
  /** No listener at all: connections to the device's address are refused. */
  unreachable?: boolean;
  /** Every authenticated request gets HTTP 200 with a body that is not XML. */
  malformedXml?: boolean;
  /** Every request has its socket destroyed without an answer. */
  dropConnection?: boolean;
  /** Added before every answer, on top of the fleet's latencyMs. */
  slowResponseMs?: number;
  /** The built-in status script fails with a CIM error (CLIXML on stderr, exit code 1). */
  failStatus?: boolean;
}

export interface SimDeviceSpec {
  computerName: string;
  /** Loopback address; by default the next free one of the fleet's subnet. */
  address?: string;
  /** Console code page when the shell does not ask for one with WINRS_CODEPAGE; 437. */
  codePage?: number;
  faults?: DeviceFaults;
}

export interface FleetOptions {
  /** A count (named `<namePrefix>-0001`...) or the devices one by one. */
  devices: number | SimDeviceSpec[];
  /** Where the addresses come from; 127.20.0.0/16. Host parts .0 and .255 are skipped. */
  subnet?: string;
  /** 5985 */
  port?: number;
  /** Delay added to every HTTP exchange; 0. */
  latencyMs?: number;
  /** Basic auth credentials every device accepts; 'winfleet' / 'winfleet'. */
  user?: string;
  password?: string;
  /** 'WS' gives WS-0001, WS-0002... */
  namePrefix?: string;
  siteId?: string;
  /** Shells one user may hold open per device (Windows' MaxShellsPerUser); 30. */
  maxShellsPerUser?: number;
  /**
   * Commands one shell may ever start: Windows never frees a terminated command's operation
   * slot, so a shell must be recycled after this many; 15.
   */
  maxCommandsPerShell?: number;
  /** Request bodies larger than this get HTTP 413; 512000. */
  maxEnvelopeBytes?: number;
  /** A shell with no request for this long is deleted; 7,200,000 (Windows' IdleTimeout). */
  idleShellTimeoutMs?: number;
  /** Seed of the output chunking; the same seed cuts the same output the same way. */
  seed?: number;
  logger?: Logger;
}

export interface SimDevice {
  computerName: string;
  address: string;
  port: number;
  siteId?: string;
}

/** Counters of commands and shells, fleet-wide and per device (by computer name). */
export interface FleetStats {
  activeCommands: number;
  maxActiveCommands: number;
  commandsRun: number;
  activeCommandsByDevice: Map<string, number>;
  maxActiveCommandsPerDevice: number;
  shellsOpen: number;
  /** WSManFaults answered, by fault code (e.g. 2150858793 for each w:TimedOut Receive). */
  faultsByCode: Map<number, number>;
  /** Authenticated WS-Management requests, by the last segment of the action (e.g. `Send`). */
  requestsByAction: Map<string, number>;
}

export interface Fleet {
  devices: SimDevice[];
  stats: FleetStats;
  /** Sets commandsRun to 0 and the maxima to the current values. */
  resetStats(): void;
  close(): Promise<void>;
}
