/** Windows code pages a shell may ask for with WINRS_CODEPAGE. */
export const UTF8_CODE_PAGE = 65001;
export const OEM_US_CODE_PAGE = 437;

// Code page 437, bytes 0x80 to 0xFF (the lower half is ASCII).
const CP437_HIGH =
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐' +
  '└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';

const CP437_ENCODE = new Map<number, number>(
  [...CP437_HIGH].map((char, i) => [char.codePointAt(0) ?? 0, 0x80 + i]),
);

/**
 * Encodes a program's output the way a console in this code page would: UTF-8 for 65001,
 * code page 437 otherwise, with `?` for characters the code page cannot represent (as
 * Windows' best-fit-less encoder does).
 */
export function encodeOutput(text: string, codePage: number): Buffer {
  if (codePage === UTF8_CODE_PAGE) return Buffer.from(text, 'utf8');
  const bytes: number[] = [];
  for (const char of text) {
    const codePoint = char.codePointAt(0) ?? 0x3f;
    bytes.push(codePoint < 0x80 ? codePoint : (CP437_ENCODE.get(codePoint) ?? 0x3f));
  }
  return Buffer.from(bytes);
}

/** Decodes bytes a client sent on stdin in this code page. */
export function decodeInput(bytes: Buffer, codePage: number): string {
  if (codePage === UTF8_CODE_PAGE) return bytes.toString('utf8');
  let text = '';
  for (const byte of bytes)
    text += byte < 0x80 ? String.fromCharCode(byte) : CP437_HIGH[byte - 0x80];
  return text;
}
