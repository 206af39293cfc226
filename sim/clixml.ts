import { NS } from '../shared/wsman.ts';

/** What powershell.exe writes first on stderr when its error stream is serialised. */
export const CLIXML_HEADER = `#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="${NS.powershellClixml}">`;
export const CLIXML_FOOTER = '</Objs>';

/**
 * One error record as `<S S="Error">` lines, each ending in an escaped CRLF, the way
 * PowerShell serialises a formatted error record.
 */
export function clixmlErrorLines(lines: string[]): string {
  return lines.map((line) => `<S S="Error">${escapeClixml(`${line}\r\n`)}</S>`).join('');
}

/**
 * Escapes a string for CLIXML: XML's special characters as entities, control characters
 * and a literal `_x` as `_xHHHH_` (PowerShell's own encoding).
 */
export function escapeClixml(text: string): string {
  let escaped = '';
  for (const char of text.replace(/_x/g, '_x005F_x')) {
    const code = char.charCodeAt(0);
    if (char === '&') escaped += '&amp;';
    else if (char === '<') escaped += '&lt;';
    else if (char === '>') escaped += '&gt;';
    else if (code < 0x20) escaped += `_x${code.toString(16).toUpperCase().padStart(4, '0')}_`;
    else escaped += char;
  }
  return escaped;
}
