import { decodeClixml, isClixml } from './clixml.ts';
import { WsmanProtocolError } from './errors.ts';
import { decodeStderr, OutputCollector } from './output.ts';
import { type CommandStateName, parseEnvelope } from './response.ts';

/** A captured response as JSON for people (`winfleet wsman decode`). */
export type DecodedWsmanResponse =
  | {
      action: string | null;
      shellId: string | null;
      commandId: string | null;
      streams: { stdout: string; stderr: string };
      /** Done, Running or Pending; an unknown state URI is a `WsmanProtocolError`. */
      commandState: CommandStateName | null;
      /**
       * Signed 32-bit (4294967295 arrives as -1), as `$LASTEXITCODE` shows it. Null when the
       * host did not report one (unknown, not 0).
       */
      exitCode: number | null;
      /** Warning, verbose, debug, information and progress records of CLIXML stderr. */
      psStreams?: Record<string, string[]>;
      config?: Record<string, string>;
    }
  | {
      action: string | null;
      fault: {
        code: number | null;
        message: string | null;
        subcode: string | null;
        reason: string | null;
        machine: string | null;
      };
    };

/**
 * Decodes one captured WS-Management response envelope. A text that starts with `#< CLIXML`
 * (a PowerShell stderr payload) is decoded as CLIXML instead. Decodes as strictly as the
 * connector's Receive loop reads: throws `WsmanProtocolError` for anything else, a stream that
 * is not base64, an unknown command state or an exit code that is not a 32-bit integer.
 */
export function decodeWsmanResponse(text: string): DecodedWsmanResponse {
  if (isClixml(text)) return decodeClixmlOnly(text);
  let envelope: ReturnType<typeof parseEnvelope>;
  try {
    envelope = parseEnvelope(text);
  } catch (error) {
    throw new WsmanProtocolError(`malformed WS-Management response: ${messageOf(error)}`, {
      cause: error,
    });
  }
  const action = envelope.action ?? null;
  if (envelope.fault) return { action, fault: faultJson(envelope.fault) };
  const output = new OutputCollector();
  output.add(envelope.chunks);
  const stderr = decodeStderr(output.text('stderr'));
  return {
    action,
    shellId: envelope.shellId ?? null,
    commandId:
      envelope.commandId ??
      envelope.commandState?.commandId ??
      envelope.chunks[0]?.commandId ??
      null,
    streams: { stdout: output.text('stdout'), stderr: stderr.text },
    commandState: envelope.commandState?.state ?? null,
    exitCode: envelope.commandState?.exitCode ?? null,
    ...(stderr.clixml ? { psStreams: otherStreams(stderr.clixml) } : {}),
    ...(envelope.config ? { config: envelope.config } : {}),
  };
}

function faultJson(fault: NonNullable<ReturnType<typeof parseEnvelope>['fault']>) {
  return {
    code: fault.code ?? null,
    message: fault.wsmanMessage ?? fault.reason ?? null,
    subcode: fault.subcode ?? null,
    reason: fault.reason ?? null,
    machine: fault.machine ?? null,
  };
}

function decodeClixmlOnly(text: string): DecodedWsmanResponse {
  const clixml = decodeClixml(text);
  return {
    action: null,
    shellId: null,
    commandId: null,
    streams: { stdout: '', stderr: clixml.error },
    commandState: null,
    exitCode: null,
    psStreams: otherStreams(clixml),
  };
}

function otherStreams(clixml: ReturnType<typeof decodeClixml>): Record<string, string[]> {
  const { warning, verbose, debug, information, progress } = clixml;
  return { warning, verbose, debug, information, progress };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
