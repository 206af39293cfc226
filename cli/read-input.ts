import { readFile } from 'node:fs/promises';
import { InputError } from './errors.ts';

/**
 * Reads a UTF-8 file a command was given. Throws `InputError` naming the file (`cannot read
 * /x.csv: no such file or directory (ENOENT)`): node leaves the path out of some errors, such
 * as EISDIR.
 */
export async function readInputFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read ${file}`, { cause: error });
  }
}
