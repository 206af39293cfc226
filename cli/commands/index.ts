import type { Command } from 'commander';
import { registerArchiveCommand } from './archive.ts';
import { registerCdkCommands } from './cdk.ts';
import { registerDevicesCommand } from './devices.ts';
import { registerLocalCommand } from './local.ts';
import { registerOpsCommand } from './ops.ts';
import { registerResultsCommand } from './results.ts';
import { registerRunCommand } from './run.ts';
import { registerSimCommand } from './sim.ts';
import { registerSitesCommand } from './sites.ts';
import { registerWsmanCommand } from './wsman.ts';

/** Adds one sub-command (and its options) to the program. */
export type RegisterCommand = (program: Command) => void;

/** Every sub-command; add a new one's register function here. */
export const COMMANDS: RegisterCommand[] = [
  registerArchiveCommand,
  registerLocalCommand,
  registerSimCommand,
  registerWsmanCommand,
  registerRunCommand,
  registerOpsCommand,
  registerResultsCommand,
  registerDevicesCommand,
  registerSitesCommand,
  registerCdkCommands,
];
