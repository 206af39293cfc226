import { randomUUID } from 'node:crypto';
import {
  ACTION,
  ANONYMOUS_ADDRESS,
  CMD_SHELL_RESOURCE_URI,
  NS,
  SIGNAL,
} from '../../shared/wsman.ts';
import { escapeXml } from './xml.ts';

/** What every request envelope carries besides its action and body. */
export interface EnvelopeContext {
  /** `http(s)://host:port/wsman` */
  url: string;
  maxEnvelopeBytes: number;
  operationTimeoutSeconds: number;
  /** Fixed in tests; a fresh `uuid:` id otherwise. */
  messageId?: string;
}

interface EnvelopeParts {
  action: string;
  shellId?: string;
  options?: Record<string, string>;
  body: string;
}

/** A request ready to post: its action and id (for logs and errors) and its XML. */
export interface WsmanRequest {
  action: string;
  messageId: string;
  xml: string;
}

function envelope(ctx: EnvelopeContext, parts: EnvelopeParts): WsmanRequest {
  const messageId = ctx.messageId ?? `uuid:${randomUUID().toUpperCase()}`;
  const xml = [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<s:Envelope xmlns:s="${NS.soap}" xmlns:a="${NS.addressing}" xmlns:w="${NS.wsman}"`,
    ` xmlns:p="${NS.msWsman}" xmlns:rsp="${NS.shell}">`,
    '<s:Header>',
    `<a:To>${escapeXml(ctx.url)}</a:To>`,
    `<w:ResourceURI s:mustUnderstand="true">${CMD_SHELL_RESOURCE_URI}</w:ResourceURI>`,
    `<a:ReplyTo><a:Address s:mustUnderstand="true">${ANONYMOUS_ADDRESS}</a:Address></a:ReplyTo>`,
    `<a:Action s:mustUnderstand="true">${parts.action}</a:Action>`,
    `<w:MaxEnvelopeSize s:mustUnderstand="true">${ctx.maxEnvelopeBytes}</w:MaxEnvelopeSize>`,
    `<a:MessageID>${messageId}</a:MessageID>`,
    '<w:Locale xml:lang="en-US" s:mustUnderstand="false"/>',
    '<p:DataLocale xml:lang="en-US" s:mustUnderstand="false"/>',
    `<w:OperationTimeout>PT${ctx.operationTimeoutSeconds}S</w:OperationTimeout>`,
    parts.shellId ? selectorSet(parts.shellId) : '',
    parts.options ? optionSet(parts.options) : '',
    '</s:Header>',
    `<s:Body>${parts.body}</s:Body>`,
    '</s:Envelope>',
  ].join('');
  return { action: parts.action, messageId, xml };
}

function selectorSet(shellId: string): string {
  return `<w:SelectorSet><w:Selector Name="ShellId">${escapeXml(shellId)}</w:Selector></w:SelectorSet>`;
}

function optionSet(options: Record<string, string>): string {
  const items = Object.entries(options).map(
    ([name, value]) => `<w:Option Name="${escapeXml(name)}">${escapeXml(value)}</w:Option>`,
  );
  return `<w:OptionSet xmlns:xsi="${NS.xsi}">${items.join('')}</w:OptionSet>`;
}

/** Create a cmd shell: UTF-8 code page (65001), no user profile loaded. */
export function createShellRequest(
  ctx: EnvelopeContext,
  idleTimeoutSeconds?: number,
): WsmanRequest {
  const idle = idleTimeoutSeconds
    ? `<rsp:IdleTimeOut>PT${idleTimeoutSeconds}S</rsp:IdleTimeOut>`
    : '';
  return envelope(ctx, {
    action: ACTION.create,
    options: { WINRS_NOPROFILE: 'TRUE', WINRS_CODEPAGE: '65001' },
    body:
      '<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams>' +
      `<rsp:OutputStreams>stdout stderr</rsp:OutputStreams>${idle}</rsp:Shell>`,
  });
}

/** Start a program in the shell; each argument is sent as its own `rsp:Arguments`. */
export function commandRequest(
  ctx: EnvelopeContext,
  shellId: string,
  command: string,
  args: readonly string[],
): WsmanRequest {
  const argXml = args.map((arg) => `<rsp:Arguments>${escapeXml(arg)}</rsp:Arguments>`).join('');
  return envelope(ctx, {
    action: ACTION.command,
    shellId,
    options: { WINRS_CONSOLEMODE_STDIN: 'TRUE', WINRS_SKIP_CMD_SHELL: 'FALSE' },
    body: `<rsp:CommandLine><rsp:Command>${escapeXml(command)}</rsp:Command>${argXml}</rsp:CommandLine>`,
  });
}

/** Send bytes to the command's stdin; `end` closes stdin. */
export function sendRequest(
  ctx: EnvelopeContext,
  shellId: string,
  commandId: string,
  bytes: Uint8Array,
  end: boolean,
): WsmanRequest {
  const endAttr = end ? ' End="true"' : '';
  const data = Buffer.from(bytes).toString('base64');
  return envelope(ctx, {
    action: ACTION.send,
    shellId,
    body: `<rsp:Send><rsp:Stream Name="stdin" CommandId="${escapeXml(commandId)}"${endAttr}>${data}</rsp:Stream></rsp:Send>`,
  });
}

/** Ask for output; the host holds the request up to OperationTimeout when there is none. */
export function receiveRequest(
  ctx: EnvelopeContext,
  shellId: string,
  commandId: string,
): WsmanRequest {
  return envelope(ctx, {
    action: ACTION.receive,
    shellId,
    options: { WSMAN_CMDSHELL_OPTION_KEEPALIVE: 'TRUE' },
    body: `<rsp:Receive><rsp:DesiredStream CommandId="${escapeXml(commandId)}">stdout stderr</rsp:DesiredStream></rsp:Receive>`,
  });
}

/** Signal the command: terminate (default) or ctrl_c. */
export function signalRequest(
  ctx: EnvelopeContext,
  shellId: string,
  commandId: string,
  code: string = SIGNAL.terminate,
): WsmanRequest {
  return envelope(ctx, {
    action: ACTION.signal,
    shellId,
    body: `<rsp:Signal CommandId="${escapeXml(commandId)}"><rsp:Code>${escapeXml(code)}</rsp:Code></rsp:Signal>`,
  });
}

/** Delete the shell and every command in it. */
export function deleteShellRequest(ctx: EnvelopeContext, shellId: string): WsmanRequest {
  return envelope(ctx, { action: ACTION.delete, shellId, body: '' });
}

/** The size of an envelope around `payloadBytes` of Send data, for chunking stdin. */
export function sendOverheadBytes(ctx: EnvelopeContext): number {
  const probe = sendRequest(
    ctx,
    '00000000-0000-0000-0000-000000000000',
    '00000000-0000-0000-0000-000000000000',
    new Uint8Array(),
    true,
  );
  return Buffer.byteLength(probe.xml) + 64;
}
