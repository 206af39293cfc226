import type { Element } from '@xmldom/xmldom';
import { NS } from '../../shared/wsman.ts';
import { childElement, parseXml, textOf } from './xml.ts';

const CLIXML_MARKER = '#< CLIXML';

/** PowerShell's serialized stderr, split by stream. */
export interface DecodedClixml {
  /** The `S="Error"` lines joined: the error text as PowerShell would print it. */
  error: string;
  warning: string[];
  verbose: string[];
  debug: string[];
  information: string[];
  /** Progress records as `activity: status` text. */
  progress: string[];
}

/** True when a stderr text is PowerShell CLIXML (`#< CLIXML` header). */
export function isClixml(text: string): boolean {
  return text.trimStart().startsWith(CLIXML_MARKER);
}

/**
 * Decodes PowerShell CLIXML stderr. powershell.exe started with -EncodedCommand and redirected
 * output serializes its error, warning, verbose and progress records this way. Several
 * `#< CLIXML` blocks may follow one another; text that is not CLIXML is kept as error text.
 */
export function decodeClixml(text: string): DecodedClixml {
  const decoded = emptyClixml();
  for (const block of text.split(CLIXML_MARKER)) {
    const xml = block.trim();
    if (xml === '') continue;
    if (!readBlock(xml, decoded)) decoded.error += xml;
  }
  return decoded;
}

function emptyClixml(): DecodedClixml {
  return { error: '', warning: [], verbose: [], debug: [], information: [], progress: [] };
}

function readBlock(xml: string, into: DecodedClixml): boolean {
  let root: Element | null;
  try {
    root = parseXml(xml).documentElement;
  } catch {
    return false;
  }
  if (!root) return false;
  if (root.localName !== 'Objs') return false;
  for (let node = root.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === node.ELEMENT_NODE) readRecord(node as Element, into);
  }
  return true;
}

function readRecord(el: Element, into: DecodedClixml): void {
  if (el.namespaceURI !== NS.powershellClixml) return;
  const stream = (el.getAttribute('S') ?? '').toLowerCase();
  if (stream === 'progress') {
    into.progress.push(progressText(el));
    return;
  }
  const text = unescapeClixml(el.textContent ?? '');
  if (stream === 'error') into.error += text;
  else if (stream === 'warning') into.warning.push(text);
  else if (stream === 'verbose') into.verbose.push(text);
  else if (stream === 'debug') into.debug.push(text);
  else if (stream === 'information') into.information.push(text);
}

/** A progress record's activity and status description (`PR` members `AV` and `SD`). */
function progressText(el: Element): string {
  const record = el.getElementsByTagNameNS(NS.powershellClixml, 'PR')[0];
  const activity = textOf(childElement(record ?? undefined, NS.powershellClixml, 'AV')) ?? '';
  const status = textOf(childElement(record ?? undefined, NS.powershellClixml, 'SD')) ?? '';
  return unescapeClixml(status ? `${activity}: ${status}` : activity);
}

/** CLIXML escapes characters as `_xHHHH_` (UTF-16 code units), e.g. `_x000D__x000A_` for CRLF. */
export function unescapeClixml(text: string): string {
  return text.replace(/_x([0-9A-Fa-f]{4})_/g, (_m, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}
