import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { ACTION, NS } from '../../../shared/wsman.ts';

/**
 * A scripted WinRM endpoint for the client's tests: each request's action is read with a regular
 * expression (deliberately not the client's parser) and answered by the test's handler with
 * hand-written XML. It records every request so tests can check what the client sent.
 */
export interface HostRequest {
  action: string;
  xml: string;
  headers: http.IncomingHttpHeaders;
  /** Numbers the TCP connection, for connection-bound authentication (NTLM). */
  connection: number;
}

export interface HostReply {
  status?: number;
  body?: string;
  headers?: Record<string, string>;
  /** Never answer (the socket stays open until the client gives up). */
  hang?: boolean;
}

export type HostHandler = (request: HostRequest) => HostReply | Promise<HostReply>;

export interface FakeHost {
  address: string;
  port: number;
  requests: HostRequest[];
  actions(): string[];
  close(): Promise<void>;
}

export async function startFakeHost(
  address: string,
  handler: HostHandler,
  tls?: https.ServerOptions,
): Promise<FakeHost> {
  const requests: HostRequest[] = [];
  const connections = new WeakMap<object, number>();
  let nextConnection = 0;
  const listener = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const parts: Buffer[] = [];
    for await (const part of req) parts.push(part as Buffer);
    const xml = Buffer.concat(parts).toString('utf8');
    const action = /<a:Action[^>]*>([^<]+)<\/a:Action>/.exec(xml)?.[1] ?? '';
    if (!connections.has(req.socket)) connections.set(req.socket, ++nextConnection);
    const connection = connections.get(req.socket) ?? 0;
    const request = { action, xml, headers: req.headers, connection };
    requests.push(request);
    const reply = await handler(request);
    if (reply.hang) return;
    res.writeHead(reply.status ?? 200, {
      'content-type': 'application/soap+xml;charset=UTF-8',
      ...reply.headers,
    });
    res.end(reply.body ?? '');
  };
  const server = tls ? https.createServer(tls, listener) : http.createServer(listener);
  server.listen(0, address);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    address,
    port,
    requests,
    actions: () => requests.map((r) => r.action.slice(r.action.lastIndexOf('/') + 1)),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

function envelope(action: string, body: string): string {
  return (
    `<s:Envelope xmlns:s="${NS.soap}" xmlns:a="${NS.addressing}" xmlns:w="${NS.wsman}" ` +
    `xmlns:rsp="${NS.shell}"><s:Header><a:Action>${action}</a:Action></s:Header>` +
    `<s:Body>${body}</s:Body></s:Envelope>`
  );
}

export const reply = {
  created(shellId: string): HostReply {
    return {
      body: envelope(
        ACTION.createResponse,
        `<x:ResourceCreated xmlns:x="${NS.transfer}"><a:ReferenceParameters><w:SelectorSet>` +
          `<w:Selector Name="ShellId">${shellId}</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>`,
      ),
    };
  },
  command(commandId: string): HostReply {
    return {
      body: envelope(
        ACTION.commandResponse,
        `<rsp:CommandResponse><rsp:CommandId>${commandId}</rsp:CommandId></rsp:CommandResponse>`,
      ),
    };
  },
  /** A Receive answer; `exitCode` null leaves the ExitCode element out. */
  output(
    streams: Array<{ name: string; bytes?: Buffer; end?: boolean }>,
    state: 'Done' | 'Running',
    exitCode?: number | null,
  ): HostReply {
    const streamXml = streams
      .map(
        (s) =>
          `<rsp:Stream Name="${s.name}" CommandId="C1"${s.end ? ' End="true"' : ''}>${s.bytes?.toString('base64') ?? ''}</rsp:Stream>`,
      )
      .join('');
    const exit =
      exitCode === null || exitCode === undefined ? '' : `<rsp:ExitCode>${exitCode}</rsp:ExitCode>`;
    const stateXml = `<rsp:CommandState CommandId="C1" State="${NS.shell}/CommandState/${state}">${exit}</rsp:CommandState>`;
    return {
      body: envelope(
        ACTION.receiveResponse,
        `<rsp:ReceiveResponse>${streamXml}${stateXml}</rsp:ReceiveResponse>`,
      ),
    };
  },
  empty(action: string): HostReply {
    return { body: envelope(action, '') };
  },
  fault(code: number, subcode: string, message: string): HostReply {
    return {
      status: 500,
      body: envelope(
        ACTION.wsmanFault,
        `<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>${subcode}</s:Value></s:Subcode></s:Code>` +
          `<s:Reason><s:Text xml:lang="en-US">${message}</s:Text></s:Reason><s:Detail>` +
          `<f:WSManFault xmlns:f="${NS.wsmanFault}" Code="${code}" Machine="fake"><f:Message>${message}</f:Message></f:WSManFault>` +
          '</s:Detail></s:Fault>',
      ),
    };
  },
};

/** Answers Signal and Delete (which every run sends) with empty responses. */
export function cleanupReply(action: string): HostReply | undefined {
  if (action === ACTION.signal) return reply.empty(ACTION.signalResponse);
  if (action === ACTION.delete) return reply.empty(ACTION.deleteResponse);
  return undefined;
}
