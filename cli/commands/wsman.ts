import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { decodeWsmanResponse } from '../../connector/wsman/index.ts';

/** `winfleet wsman decode FILE`: a captured WS-Management response as JSON (contract 6). */
export function registerWsmanCommand(program: Command): void {
  const wsman = program.command('wsman').description('Tools for WS-Management traffic');
  wsman
    .command('decode')
    .description(
      'Decode a captured WS-Management response (XML) or CLIXML stderr into JSON: action, ' +
        'shell id, command id, decoded streams, command state and exit code, or the fault',
    )
    .argument('<file>', 'the captured response body')
    .action(async (file: string) => {
      const text = await readFile(file, 'utf8');
      try {
        process.stdout.write(`${JSON.stringify(decodeWsmanResponse(text), null, 2)}\n`);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        process.stderr.write(`cannot decode ${file}: ${message}\n`);
        process.exitCode = 1;
      }
    });
}
