import { spawn } from 'node:child_process';
import type { Command } from 'commander';

/** `winfleet synth` and `winfleet deploy`: the CDK CLI on this repository's app (cdk.json). */
export function registerCdkCommands(program: Command): void {
  for (const [name, description] of [
    ['synth', 'synthesize the CloudFormation templates (npx cdk synth); runs offline'],
    ['deploy', 'deploy the stacks to the AWS account of your credentials (npx cdk deploy)'],
  ] as const) {
    program
      .command(name)
      .description(`${description}; further arguments go to cdk`)
      .argument('[args...]', 'passed to cdk as given, e.g. --all, --require-approval never')
      .allowUnknownOption()
      .helpOption(false)
      .action(async (args: string[]) => {
        process.exitCode = await runCdk([name, ...args]);
      });
  }
}

function runCdk(args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['cdk', ...args], { stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}
