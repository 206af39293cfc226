import type { Logger } from '../../shared/logger.ts';
import { FAULT_CODE } from '../../shared/wsman.ts';
import type { CommandOutcome, RunOptions } from '../transport.ts';
import type { WinrsClient } from './client.ts';
import { type PowerShellInvocation, planInvocation } from './command-line.ts';
import { WsmanFaultError } from './errors.ts';
import { decodeStderr, OutputCollector } from './output.ts';
import type { PooledShell, ShellPool } from './shell-pool.ts';

/** Why an internal abort happened: the per-device deadline passed. */
class DeadlineReached extends Error {
  constructor(timeoutMs: number) {
    super(`deadline of ${timeoutMs} ms reached`);
    this.name = 'DeadlineReached';
  }
}

export interface RunContext {
  client: WinrsClient;
  pool: ShellPool;
  cleanupTimeoutMs: number;
  logger?: Logger;
}

interface Started {
  shell: PooledShell;
  commandId: string;
}

/**
 * Runs one PowerShell script in a pooled shell: Command (or Command + Send for a long script),
 * then Receive until Done. Past the deadline the command gets Signal terminate, its shell is
 * deleted and the outcome is `TimedOut` with the output so far. The caller's abort signal
 * ends the run the same way and rethrows the abort reason.
 */
export async function runScript(
  ctx: RunContext,
  script: string,
  options: RunOptions,
): Promise<CommandOutcome> {
  const guard = new AbortController();
  const timer = setTimeout(
    () => guard.abort(new DeadlineReached(options.timeoutMs)),
    options.timeoutMs,
  );
  const onCallerAbort = () => guard.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  if (options.signal?.aborted) onCallerAbort();
  const output = new OutputCollector();
  let started: Started | undefined;
  try {
    started = await startCommand(ctx, planInvocation(script), guard.signal);
    const exitCode = await receiveUntilDone(ctx.client, started, output, guard.signal);
    await terminateQuietly(ctx, started);
    void ctx.pool.release(started.shell, true);
    return outcome('Completed', exitCode, output);
  } catch (error) {
    if (started) await endStarted(ctx, started, true);
    if (guard.signal.reason instanceof DeadlineReached)
      return outcome('TimedOut', undefined, output);
    throw guard.signal.aborted ? guard.signal.reason : error;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onCallerAbort);
  }
}

/**
 * Gets a shell and starts the command. Before the command starts it is safe to retry once on a
 * fresh shell: after 2150858843 (the shell was reaped) or 2150859174 (its operation quota is
 * used up).
 */
async function startCommand(
  ctx: RunContext,
  plan: PowerShellInvocation,
  signal: AbortSignal,
): Promise<Started> {
  for (let attempt = 1; ; attempt += 1) {
    const shell = await ctx.pool.acquire(signal);
    let commandId: string;
    try {
      commandId = await ctx.client.command(shell.id, plan.command, plan.args, signal);
    } catch (error) {
      await ctx.pool.release(shell, false);
      if (attempt === 1 && isRetryableBeforeStart(error)) {
        ctx.logger?.debug(
          { faultCode: (error as WsmanFaultError).code },
          'shell unusable, retrying on a new shell',
        );
        continue;
      }
      throw error;
    }
    const started = { shell, commandId };
    if (plan.stdin) await sendStdin(ctx, started, plan.stdin, signal);
    return started;
  }
}

async function sendStdin(
  ctx: RunContext,
  started: Started,
  stdin: Buffer,
  signal: AbortSignal,
): Promise<void> {
  try {
    await ctx.client.sendInput(started.shell.id, started.commandId, stdin, signal);
  } catch (error) {
    await endStarted(ctx, started, true);
    throw error;
  }
}

function isRetryableBeforeStart(error: unknown): boolean {
  if (!(error instanceof WsmanFaultError)) return false;
  return error.code === FAULT_CODE.shellNotFound || error.code === FAULT_CODE.operationQuota;
}

/** Receives until CommandState Done; a w:TimedOut answer just means Receive again. */
async function receiveUntilDone(
  client: WinrsClient,
  started: Started,
  output: OutputCollector,
  signal: AbortSignal,
): Promise<number | undefined> {
  for (;;) {
    const envelope = await client.receive(started.shell.id, started.commandId, signal);
    if (!envelope) continue;
    output.add(envelope.chunks);
    if (envelope.commandState?.done) return envelope.commandState.exitCode;
  }
}

/** After Done: Signal terminate releases the command on the host (a fault here is harmless). */
async function terminateQuietly(ctx: RunContext, started: Started): Promise<void> {
  await ctx.client
    .signal(
      started.shell.id,
      started.commandId,
      undefined,
      AbortSignal.timeout(ctx.cleanupTimeoutMs),
    )
    .catch((error: unknown) => ctx.logger?.debug({ err: error }, 'terminate after done failed'));
}

/** A command that did not finish normally: terminate it (when asked) and delete its shell. */
async function endStarted(ctx: RunContext, started: Started, terminate: boolean): Promise<void> {
  if (!started.shell.busy) return;
  if (terminate) await terminateQuietly(ctx, started);
  await ctx.pool.release(started.shell, false);
}

function outcome(
  state: CommandOutcome['state'],
  exitCode: number | undefined,
  output: OutputCollector,
): CommandOutcome {
  const stderr = decodeStderr(output.text('stderr'));
  const result: CommandOutcome = {
    state,
    exitCode,
    stdout: output.text('stdout'),
    stderr: stderr.text,
  };
  if (stderr.clixml) {
    const { warning, verbose, progress } = stderr.clixml;
    result.streams = { warning, verbose, progress };
  }
  return result;
}

export { DeadlineReached };
