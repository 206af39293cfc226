import type { Logger } from '../../shared/logger.ts';
import { FAULT_CODE } from '../../shared/wsman.ts';
import { chunkBytes } from './command-line.ts';
import { WsmanFaultError, WsmanProtocolError } from './errors.ts';
import type { WsmanHttpClient } from './http.ts';
import {
  commandRequest,
  createShellRequest,
  deleteShellRequest,
  type EnvelopeContext,
  receiveRequest,
  sendOverheadBytes,
  sendRequest,
  signalRequest,
  type WsmanRequest,
} from './request.ts';
import { parseEnvelope, type WsmanEnvelope } from './response.ts';

/**
 * The WinRS operations (Create, Command, Send, Receive, Signal, Delete) against one device.
 * Every answer is parsed; faults become `WsmanFaultError` with the code and message kept.
 */
export class WinrsClient {
  readonly #http: WsmanHttpClient;
  readonly #ctx: EnvelopeContext;
  readonly #logger: Logger | undefined;
  readonly #deviceId: string | undefined;

  constructor(http: WsmanHttpClient, ctx: EnvelopeContext, logger?: Logger, deviceId?: string) {
    this.#http = http;
    this.#ctx = ctx;
    this.#logger = logger;
    this.#deviceId = deviceId;
  }

  /** Creates a shell and returns its id. */
  async createShell(signal?: AbortSignal): Promise<string> {
    const envelope = await this.exchange(createShellRequest(this.#ctx), signal);
    if (!envelope.shellId) throw this.#protocol('CreateResponse without a ShellId');
    return envelope.shellId;
  }

  /** Starts a command and returns its id. */
  async command(
    shellId: string,
    command: string,
    args: readonly string[],
    signal?: AbortSignal,
  ): Promise<string> {
    const envelope = await this.exchange(commandRequest(this.#ctx, shellId, command, args), signal);
    if (!envelope.commandId) throw this.#protocol('CommandResponse without a CommandId');
    return envelope.commandId;
  }

  /** Sends stdin in chunks whose envelopes stay below MaxEnvelopeSize; the last closes stdin. */
  async sendInput(
    shellId: string,
    commandId: string,
    bytes: Buffer,
    signal?: AbortSignal,
  ): Promise<void> {
    const room = this.#ctx.maxEnvelopeBytes - sendOverheadBytes(this.#ctx);
    const maxChunkBytes = Math.floor((room * 3) / 4);
    const chunks = chunkBytes(bytes, maxChunkBytes);
    for (const [index, chunk] of chunks.entries()) {
      const end = index === chunks.length - 1;
      await this.exchange(sendRequest(this.#ctx, shellId, commandId, chunk, end), signal);
    }
  }

  /**
   * One Receive. Returns undefined when the host answered w:TimedOut (2150858793): no output
   * within OperationTimeout, and the caller should simply Receive again.
   */
  async receive(
    shellId: string,
    commandId: string,
    signal?: AbortSignal,
  ): Promise<WsmanEnvelope | undefined> {
    try {
      return await this.exchange(receiveRequest(this.#ctx, shellId, commandId), signal);
    } catch (error) {
      if (error instanceof WsmanFaultError && error.code === FAULT_CODE.operationTimeout)
        return undefined;
      throw error;
    }
  }

  async signal(
    shellId: string,
    commandId: string,
    code?: string,
    signal?: AbortSignal,
  ): Promise<void> {
    await this.exchange(signalRequest(this.#ctx, shellId, commandId, code), signal);
  }

  async deleteShell(shellId: string, signal?: AbortSignal): Promise<void> {
    await this.exchange(deleteShellRequest(this.#ctx, shellId), signal);
  }

  /** Posts a request and reads the answer; throws a fault or protocol error when it is one. */
  async exchange(request: WsmanRequest, signal?: AbortSignal): Promise<WsmanEnvelope> {
    const response = await this.#http.post(request.xml, signal);
    this.#logger?.trace({ action: request.action, status: response.status }, 'wsman exchange');
    if (response.status === 413) {
      throw this.#protocol(`envelope refused as too large (413) for ${request.action}`, 413);
    }
    const envelope = this.#parse(response.body, response.status, request.action);
    if (envelope.fault) {
      throw new WsmanFaultError(envelope.fault, {
        endpoint: this.#http.url,
        deviceId: this.#deviceId,
        requestAction: request.action,
        httpStatus: response.status,
      });
    }
    if (response.status !== 200) {
      throw this.#protocol(
        `HTTP ${response.status} without a fault for ${request.action}`,
        response.status,
      );
    }
    return envelope;
  }

  #parse(body: string, status: number, action: string): WsmanEnvelope {
    try {
      return parseEnvelope(body);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new WsmanProtocolError(`malformed answer (HTTP ${status}) to ${action}: ${message}`, {
        endpoint: this.#http.url,
        deviceId: this.#deviceId,
        httpStatus: status,
        cause: error,
      });
    }
  }

  #protocol(message: string, httpStatus?: number): WsmanProtocolError {
    return new WsmanProtocolError(message, {
      endpoint: this.#http.url,
      deviceId: this.#deviceId,
      ...(httpStatus ? { httpStatus } : {}),
    });
  }
}
