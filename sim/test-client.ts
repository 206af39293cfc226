/**
 * A deliberately small WS-Management client for the simulator's own tests: hand-built SOAP
 * with prefixes unlike Windows' (to prove the simulator resolves namespaces), raw HTTP.
 */
import { randomUUID } from 'node:crypto';
import { ACTION, CMD_SHELL_RESOURCE_URI, COMMAND_STATE, NS, SIGNAL } from '../shared/wsman.ts';
import { child, parseXml, type XmlElement } from './xml.ts';

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
}

export interface ReceiveResult {
  status: number;
  stdout: Buffer[];
  stderr: Buffer[];
  done: boolean;
  exitCode?: number;
  faultCode?: number;
}

export interface EnvelopeParts {
  action: string;
  shellId?: string;
  options?: Record<string, string>;
  operationTimeout?: string;
  body?: string;
}

export function buildEnvelope(parts: EnvelopeParts): string {
  const selector = parts.shellId
    ? `<wsman:SelectorSet><wsman:Selector Name="ShellId">${parts.shellId}</wsman:Selector></wsman:SelectorSet>`
    : '';
  const options = Object.entries(parts.options ?? {})
    .map(([name, value]) => `<wsman:Option Name="${name}">${value}</wsman:Option>`)
    .join('');
  return (
    `<?xml version="1.0" encoding="utf-8"?>` +
    `<env:Envelope xmlns:env="${NS.soap}" xmlns:wsa="${NS.addressing}" xmlns:wsman="${NS.wsman}">` +
    `<env:Header><wsa:To>http://device:5985/wsman</wsa:To>` +
    `<wsman:ResourceURI env:mustUnderstand="true">${CMD_SHELL_RESOURCE_URI}</wsman:ResourceURI>` +
    `<wsa:Action env:mustUnderstand="true">${parts.action}</wsa:Action>` +
    `<wsa:MessageID>uuid:${randomUUID()}</wsa:MessageID>` +
    `<wsman:OperationTimeout>${parts.operationTimeout ?? 'PT20S'}</wsman:OperationTimeout>` +
    `${selector}${options ? `<wsman:OptionSet>${options}</wsman:OptionSet>` : ''}</env:Header>` +
    `<env:Body>${parts.body ?? ''}</env:Body></env:Envelope>`
  );
}

export class RawClient {
  constructor(
    readonly address: string,
    readonly port = 5985,
    private readonly user = 'winfleet',
    private readonly password = 'winfleet',
  ) {}

  get url(): string {
    return `http://${this.address}:${this.port}/wsman`;
  }

  async post(body: string, headers: Record<string, string> = {}): Promise<RawResponse> {
    const auth = Buffer.from(`${this.user}:${this.password}`).toString('base64');
    const response = await fetch(this.url, {
      method: 'POST',
      headers: {
        authorization: `Basic ${auth}`,
        'content-type': 'application/soap+xml;charset=UTF-8',
        ...headers,
      },
      body,
    });
    return { status: response.status, headers: response.headers, text: await response.text() };
  }

  async createShell(
    options: Record<string, string> = { WINRS_CODEPAGE: '65001' },
  ): Promise<string> {
    const body = `<sh:Shell xmlns:sh="${NS.shell}"><sh:InputStreams>stdin</sh:InputStreams><sh:OutputStreams>stdout stderr</sh:OutputStreams></sh:Shell>`;
    const response = await this.post(buildEnvelope({ action: ACTION.create, options, body }));
    const shellId = selectorOf(expectOk(response), 'ShellId');
    if (!shellId) throw new Error(`no ShellId in ${response.text}`);
    return shellId;
  }

  async command(shellId: string, command: string, args: string[] = []): Promise<RawResponse> {
    const argElements = args.map((a) => `<sh:Arguments>${escapeText(a)}</sh:Arguments>`).join('');
    const body = `<sh:CommandLine xmlns:sh="${NS.shell}"><sh:Command>${escapeText(command)}</sh:Command>${argElements}</sh:CommandLine>`;
    return this.post(buildEnvelope({ action: ACTION.command, shellId, body }));
  }

  async startCommand(shellId: string, command: string, args: string[] = []): Promise<string> {
    const response = await this.command(shellId, command, args);
    const id = findAll(expectOk(response), NS.shell, 'CommandId')[0]?.text;
    if (!id) throw new Error(`no CommandId in ${response.text}`);
    return id;
  }

  async startPowerShell(shellId: string, script: string): Promise<string> {
    const encoded = Buffer.from(script, 'utf16le').toString('base64');
    return this.startCommand(shellId, 'powershell', [
      '-NoProfile',
      '-NonInteractive',
      '-EncodedCommand',
      encoded,
    ]);
  }

  async send(shellId: string, commandId: string, data: Buffer, end: boolean): Promise<RawResponse> {
    const endAttr = end ? ' End="true"' : '';
    const body = `<sh:Send xmlns:sh="${NS.shell}"><sh:Stream Name="stdin" CommandId="${commandId}"${endAttr}>${data.toString('base64')}</sh:Stream></sh:Send>`;
    return this.post(buildEnvelope({ action: ACTION.send, shellId, body }));
  }

  async receive(
    shellId: string,
    commandId: string,
    operationTimeout = 'PT20S',
  ): Promise<ReceiveResult> {
    const body = `<sh:Receive xmlns:sh="${NS.shell}"><sh:DesiredStream CommandId="${commandId}">stdout stderr</sh:DesiredStream></sh:Receive>`;
    const response = await this.post(
      buildEnvelope({ action: ACTION.receive, shellId, operationTimeout, body }),
    );
    return parseReceive(response);
  }

  /** Receives until Done, skipping TimedOut faults; returns every response. */
  async receiveAll(
    shellId: string,
    commandId: string,
    operationTimeout = 'PT20S',
  ): Promise<ReceiveResult[]> {
    const results: ReceiveResult[] = [];
    for (;;) {
      const result = await this.receive(shellId, commandId, operationTimeout);
      results.push(result);
      if (result.done) return results;
      if (result.status !== 200 && result.faultCode !== 2150858793) return results;
    }
  }

  async signal(
    shellId: string,
    commandId: string,
    code: string = SIGNAL.terminate,
  ): Promise<RawResponse> {
    const body = `<sh:Signal xmlns:sh="${NS.shell}" CommandId="${commandId}"><sh:Code>${code}</sh:Code></sh:Signal>`;
    return this.post(buildEnvelope({ action: ACTION.signal, shellId, body }));
  }

  async deleteShell(shellId: string): Promise<RawResponse> {
    return this.post(buildEnvelope({ action: ACTION.delete, shellId }));
  }

  /** Create, run a PowerShell script, receive to the end, terminate, delete. */
  async runPowerShell(script: string, options?: Record<string, string>): Promise<CommandOutcome> {
    const shellId = await this.createShell(options);
    const commandId = await this.startPowerShell(shellId, script);
    const results = await this.receiveAll(shellId, commandId);
    await this.signal(shellId, commandId);
    await this.deleteShell(shellId);
    return outcome(results);
  }
}

export interface CommandOutcome {
  stdout: Buffer;
  stderr: Buffer;
  exitCode?: number;
  responses: number;
}

export function outcome(results: ReceiveResult[]): CommandOutcome {
  const last = results[results.length - 1];
  return {
    stdout: Buffer.concat(results.flatMap((r) => r.stdout)),
    stderr: Buffer.concat(results.flatMap((r) => r.stderr)),
    ...(last?.exitCode === undefined ? {} : { exitCode: last.exitCode }),
    responses: results.length,
  };
}

export function faultCodeOf(text: string): number | undefined {
  const fault = findAll(parseXml(text), NS.wsmanFault, 'WSManFault')[0];
  const code = fault?.attrs.get('Code');
  return code === undefined ? undefined : Number(code);
}

function parseReceive(response: RawResponse): ReceiveResult {
  if (response.status !== 200) {
    const faultCode = faultCodeOf(response.text);
    return {
      status: response.status,
      stdout: [],
      stderr: [],
      done: false,
      ...(faultCode ? { faultCode } : {}),
    };
  }
  const root = parseXml(response.text);
  const streams = findAll(root, NS.shell, 'Stream');
  const pick = (name: string) =>
    streams
      .filter((s) => s.attrs.get('Name') === name && s.text !== '')
      .map((s) => Buffer.from(s.text, 'base64'));
  const state = findAll(root, NS.shell, 'CommandState')[0];
  const done = state?.attrs.get('State') === COMMAND_STATE.done;
  const exitText = child(state, NS.shell, 'ExitCode')?.text;
  return {
    status: 200,
    stdout: pick('stdout'),
    stderr: pick('stderr'),
    done,
    ...(exitText === undefined ? {} : { exitCode: Number(exitText) }),
  };
}

function expectOk(response: RawResponse): XmlElement {
  if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${response.text}`);
  return parseXml(response.text);
}

function selectorOf(root: XmlElement, name: string): string | undefined {
  return findAll(root, NS.wsman, 'Selector').find((s) => s.attrs.get('Name') === name)?.text;
}

export function findAll(root: XmlElement, ns: string, local: string): XmlElement[] {
  const found = root.ns === ns && root.local === local ? [root] : [];
  for (const c of root.children) found.push(...findAll(c, ns, local));
  return found;
}

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
