import { Command } from 'commander';
import { COMMANDS } from './commands/index.ts';

/** The `winfleet` command: each sub-command lives in `cli/commands/` and registers itself. */
export function buildProgram(): Command {
  const program = new Command('winfleet')
    .description('Run operations on Windows fleets across many sites')
    .showHelpAfterError();
  for (const register of COMMANDS) register(program);
  return program;
}

await buildProgram().parseAsync(process.argv);
