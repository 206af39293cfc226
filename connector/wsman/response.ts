import type { Element } from '@xmldom/xmldom';
import { COMMAND_STATE, NS } from '../../shared/wsman.ts';
import type { WsmanFaultDetail } from './errors.ts';
import { childElement, childElements, descendant, descendants, parseXml, textOf } from './xml.ts';

const CONFIG_NS = 'http://schemas.microsoft.com/wbem/wsman/1/config';

/** One `rsp:Stream` of a Receive response: the decoded bytes of one chunk. */
export interface StreamChunk {
  name: string;
  commandId: string | undefined;
  bytes: Buffer;
  end: boolean;
}

/** The command states WS-Management defines; any other state URI is a protocol error. */
export type CommandStateName = 'Done' | 'Running' | 'Pending';

export interface CommandStateInfo {
  commandId: string | undefined;
  /** The state URI's last segment. */
  state: CommandStateName;
  done: boolean;
  /**
   * The exit code when the host reported one, as a signed 32-bit integer (the form
   * `$LASTEXITCODE` shows: 0xC000013A is -1073741510); undefined means unknown, never 0.
   */
  exitCode: number | undefined;
}

/** What one WS-Management response envelope says, read by namespace URI. */
export interface WsmanEnvelope {
  action: string | undefined;
  relatesTo: string | undefined;
  shellId: string | undefined;
  commandId: string | undefined;
  chunks: StreamChunk[];
  commandState: CommandStateInfo | undefined;
  fault: WsmanFaultDetail | undefined;
  /** Top-level settings of a WinRM config Get (e.g. `MaxEnvelopeSizekb`), when present. */
  config: Record<string, string> | undefined;
}

/**
 * Parses a response envelope. Unknown elements and whitespace are ignored; throws a plain
 * `Error` when the text is not XML or not a SOAP envelope, when a stream is not base64, when
 * a command state URI is not one WS-Management defines, or when an exit code is not a 32-bit
 * integer: garbage never reads as Done with exit code 0.
 */
export function parseEnvelope(xml: string): WsmanEnvelope {
  const doc = parseXml(xml);
  const root = doc.documentElement;
  if (!root || root.namespaceURI !== NS.soap || root.localName !== 'Envelope') {
    throw new Error(
      `expected a SOAP 1.2 Envelope, got ${root?.namespaceURI ?? ''} ${root?.localName ?? ''}`,
    );
  }
  const header = childElement(root, NS.soap, 'Header');
  const body = childElement(root, NS.soap, 'Body');
  return {
    action: textOf(childElement(header, NS.addressing, 'Action')),
    relatesTo: textOf(childElement(header, NS.addressing, 'RelatesTo')),
    shellId: readShellId(body),
    commandId: textOf(descendant(body, NS.shell, 'CommandId')),
    chunks: body ? readChunks(body) : [],
    commandState: readCommandState(body),
    fault: readFault(body),
    config: readConfig(body),
  };
}

function readShellId(body: Element | undefined): string | undefined {
  const selector = body
    ? descendants(body, NS.wsman, 'Selector').find((s) => s.getAttribute('Name') === 'ShellId')
    : undefined;
  return textOf(selector) ?? textOf(descendant(body, NS.shell, 'ShellId'));
}

function readChunks(body: Element): StreamChunk[] {
  const response = childElement(body, NS.shell, 'ReceiveResponse');
  if (!response) return [];
  return childElements(response, NS.shell, 'Stream').map((el) => {
    const name = el.getAttribute('Name') ?? '';
    return {
      name,
      commandId: el.getAttribute('CommandId') ?? undefined,
      bytes: decodeBase64(el.textContent ?? '', `rsp:Stream Name="${name}"`),
      end: (el.getAttribute('End') ?? '').toLowerCase() === 'true',
    };
  });
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict base64 (whitespace allowed between characters): Buffer.from skips bad characters. */
function decodeBase64(text: string, where: string): Buffer {
  const compact = text.replace(/\s+/g, '');
  if (!BASE64.test(compact)) {
    throw new Error(`${where} is not valid base64: "${preview(compact)}"`);
  }
  return Buffer.from(compact, 'base64');
}

const STATES: ReadonlyMap<string, CommandStateName> = new Map([
  [COMMAND_STATE.done, 'Done'],
  [COMMAND_STATE.running, 'Running'],
  [COMMAND_STATE.pending, 'Pending'],
]);

function readCommandState(body: Element | undefined): CommandStateInfo | undefined {
  const el = descendant(body, NS.shell, 'CommandState');
  if (!el) return undefined;
  const uri = el.getAttribute('State') ?? '';
  const state = STATES.get(uri);
  if (!state) throw new Error(`rsp:CommandState has an unknown State "${preview(uri)}"`);
  const exitEl = childElement(el, NS.shell, 'ExitCode');
  return {
    commandId: el.getAttribute('CommandId') ?? undefined,
    state,
    done: state === 'Done',
    exitCode: exitEl ? parseExitCode(textOf(exitEl) ?? '') : undefined,
  };
}

const INT32_MIN = -2_147_483_648;
const UINT32_MAX = 4_294_967_295;

/**
 * Exit codes are DWORDs that hosts write as signed or unsigned 32-bit decimals; both come out
 * signed (4294967295 is -1). Anything else, empty included, is a protocol error.
 */
function parseExitCode(text: string): number {
  const value = /^-?\d{1,10}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= INT32_MIN && value <= UINT32_MAX)) {
    throw new Error(
      `rsp:ExitCode "${preview(text)}" is not a 32-bit integer (${INT32_MIN}..${UINT32_MAX})`,
    );
  }
  return value | 0;
}

/** At most 100 characters of a bad value, for an error message. */
function preview(text: string): string {
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}

function readFault(body: Element | undefined): WsmanFaultDetail | undefined {
  const fault = childElement(body, NS.soap, 'Fault');
  if (!fault) return undefined;
  const code = childElement(fault, NS.soap, 'Code');
  const subcode = childElement(code, NS.soap, 'Subcode');
  const reason = childElement(fault, NS.soap, 'Reason');
  const detail = childElement(fault, NS.soap, 'Detail');
  const fromDetail = readWsmanFault(detail) ?? readWmiError(detail);
  return {
    code: fromDetail?.code,
    subcode:
      textOf(childElement(subcode, NS.soap, 'Value')) ??
      textOf(childElement(code, NS.soap, 'Value')),
    reason: textOf(childElement(reason, NS.soap, 'Text')),
    wsmanMessage: fromDetail?.message,
    machine: fromDetail?.machine,
  };
}

interface DetailFields {
  code: number | undefined;
  message: string | undefined;
  machine: string | undefined;
}

function readWsmanFault(detail: Element | undefined): DetailFields | undefined {
  const el = descendant(detail, NS.wsmanFault, 'WSManFault');
  if (!el) return undefined;
  return {
    code: parseCode(el.getAttribute('Code')),
    // The message may wrap its text in f:ProviderFault; the whole text content is the message.
    message: textOf(childElement(el, NS.wsmanFault, 'Message')),
    machine: el.getAttribute('Machine') ?? undefined,
  };
}

/** The CIM error shape some providers (WMI) put in the detail instead of a WSManFault. */
function readWmiError(detail: Element | undefined): DetailFields | undefined {
  const el = descendant(detail, NS.wmiError, 'MSFT_WmiError');
  if (!el) return undefined;
  return {
    code: parseCode(textOf(childElement(el, NS.wmiError, 'error_Code'))),
    message: textOf(childElement(el, NS.wmiError, 'Message')),
    machine: undefined,
  };
}

function parseCode(text: string | null | undefined): number | undefined {
  if (!text) return undefined;
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  if (/^0x[0-9a-f]+$/i.test(trimmed)) return Number.parseInt(trimmed.slice(2), 16);
  return undefined;
}

function readConfig(body: Element | undefined): Record<string, string> | undefined {
  const config = childElement(body, CONFIG_NS, 'Config');
  if (!config) return undefined;
  const values: Record<string, string> = {};
  flattenConfig(config, '', values);
  return values;
}

/** Leaf settings by path: `MaxEnvelopeSizekb`, `Service.MaxConcurrentOperationsPerUser`. */
function flattenConfig(parent: Element, prefix: string, into: Record<string, string>): void {
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (node.nodeType !== node.ELEMENT_NODE) continue;
    const el = node as Element;
    const path = `${prefix}${el.localName ?? ''}`;
    if (hasElementChildren(el)) flattenConfig(el, `${path}.`, into);
    else into[path] = textOf(el) ?? '';
  }
}

function hasElementChildren(el: Element): boolean {
  for (let node = el.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === node.ELEMENT_NODE) return true;
  }
  return false;
}
