import type { Logger } from '../../shared/logger.ts';
import { FAULT_CODE } from '../../shared/wsman.ts';
import type { CommandOutcome, RunOptions } from '../transport.ts';
import type { CleanupQueue } from './cleanup.ts';
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
  /** Holds a finished run while the background clean-up is too far behind. */
  cleanup: CleanupQueue;
  cleanupTimeoutMs: number;
  logger?: Logger;
}

interface Started {
  shell: PooledShell;
  commandId: string;
  /** Set once its clean-up is scheduled: the command's shell is no longer this run's. */
  ended?: boolean;
}

/**
 * Runs one PowerShell script in a pooled shell: Command (or Command + Send for a long script),
 * then Receive until Done, and returns as soon as Done arrives. The Signal terminate that frees
 * the command on the host runs afterwards in the background clean-up queue, and the shell goes
 * back to the pool once it has. Past the deadline the command gets Signal terminate and its
 * shell is deleted (in the background too) and the outcome is `TimedOut` with the output so
 * far. The caller's abort signal ends the run the same way and rethrows the abort reason.
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
    endStarted(ctx, started, true);
    await ctx.cleanup.waitForRoom();
    return outcome('Completed', exitCode, output);
  } catch (error) {
    if (started) endStarted(ctx, started, false);
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
      // The shell may be broken: deleted in the background, the retry takes a fresh one.
      void ctx.pool.release(shell, false);
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
    endStarted(ctx, started, false);
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

/**
 * Schedules the command's Signal terminate in the background and hands its shell back after
 * it: for reuse after Done (`reusable`), else to be deleted. Windows keeps a command, Done or
 * not, until it is terminated or its shell deleted, so the Signal is never skipped; no result
 * waits for it, and a failed Signal (logged by the queue) gets the shell deleted instead.
 */
function endStarted(ctx: RunContext, started: Started, reusable: boolean): void {
  if (started.ended) return;
  started.ended = true;
  const { shell, commandId } = started;
  ctx.pool.releaseAfter(
    shell,
    'signal terminate',
    () =>
      ctx.client.signal(shell.id, commandId, undefined, AbortSignal.timeout(ctx.cleanupTimeoutMs)),
    reusable,
  );
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
