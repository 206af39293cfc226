import type { Command } from 'commander';
import { type DecodedWsmanResponse, decodeWsmanResponse } from '../../connector/wsman/index.ts';
import { InputError } from '../errors.ts';
import { readInputFile } from '../read-input.ts';

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
      const text = await readInputFile(file);
      let decoded: DecodedWsmanResponse;
      try {
        decoded = decodeWsmanResponse(text);
      } catch (error) {
        throw new InputError(`cannot decode ${file}`, { cause: error });
      }
      process.stdout.write(`${JSON.stringify(decoded, null, 2)}\n`);
    });
}
