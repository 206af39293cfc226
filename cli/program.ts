import { Command } from 'commander';
import { COMMANDS } from './commands/index.ts';
import { configureErrorOutput, reportFailure } from './errors.ts';

/** The `winfleet` command: each sub-command lives in `cli/commands/` and registers itself. */
export function buildProgram(): Command {
  const program = new Command('winfleet').description(
    'Run operations on Windows fleets across many sites',
  );
  for (const register of COMMANDS) register(program);
  configureErrorOutput(program);
  return program;
}

/**
 * Runs the program on `argv` (as `process.argv`). Whatever a command's action throws ends up
 * here, in the one error handler: a line on stderr naming the command, and exit code 1.
 */
export async function runCli(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  let running: Command = program;
  program.hook('preAction', (_program, action) => {
    running = action;
  });
  try {
    await program.parseAsync(argv);
  } catch (error) {
    reportFailure(running, error);
  }
}
