import { z } from 'zod';
import type { CommandOutcome } from '../transport.ts';
import {
  type PowerShellErrorContext,
  PowerShellRemotingError,
  PowerShellTransportError,
} from './errors.ts';
import { RESULT_MARKER } from './script.ts';

const Envelope = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    stdout: z.string().nullable(),
    stderr: z.string().nullable(),
    exitCode: z.number().int().nullable(),
  }),
  z.object({
    ok: z.literal(false),
    error: z.object({
      type: z.string(),
      message: z.string(),
      errorCode: z.number().int().nullable().optional(),
      errorId: z.string().nullable().optional(),
    }),
  }),
]);

/** What one local invocation printed: stdout, and stderr when the process wrote any. */
export interface InvocationOutput {
  stdout: string;
  stderr: string;
}

/**
 * Reads the result line of `invocationCommand` from the local process's output: the device's
 * outcome, or a `PowerShellRemotingError` when the session or the invocation failed. Output
 * without a well-formed result line is a `PowerShellTransportError` of kind `protocol`.
 */
export function parseInvocationOutput(
  output: InvocationOutput,
  ctx: PowerShellErrorContext = {},
): CommandOutcome {
  const line = output.stdout
    .split(/\r?\n/)
    .reverse()
    .find((l) => l.trimStart().startsWith(RESULT_MARKER));
  if (line === undefined) {
    throw new PowerShellTransportError(
      'protocol',
      `no result line from the local PowerShell; it wrote ${preview(output.stderr || output.stdout)}`,
      ctx,
    );
  }
  const envelope = parseEnvelope(line.trimStart().slice(RESULT_MARKER.length), ctx);
  if (!envelope.ok) throw new PowerShellRemotingError(envelope.error, ctx);
  return {
    state: 'Completed',
    // A missing exit code is unknown, never 0.
    exitCode: envelope.exitCode ?? undefined,
    stdout: envelope.stdout ?? '',
    stderr: envelope.stderr ?? '',
  };
}

function parseEnvelope(json: string, ctx: PowerShellErrorContext): z.infer<typeof Envelope> {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new PowerShellTransportError('protocol', `result line is not JSON: ${preview(json)}`, {
      ...ctx,
      cause: error,
    });
  }
  const parsed = Envelope.safeParse(raw);
  if (!parsed.success) {
    throw new PowerShellTransportError(
      'protocol',
      `unexpected result line: ${z.prettifyError(parsed.error)}`,
      ctx,
    );
  }
  return parsed.data;
}

function preview(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return 'nothing';
  return JSON.stringify(trimmed.length > 200 ? `${trimmed.slice(0, 200)}...` : trimmed);
}
