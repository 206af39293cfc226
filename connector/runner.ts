import type { DeviceTarget } from '../shared/schemas/device.ts';
import type { DeviceResult, FinalDeviceState } from '../shared/schemas/result.ts';
import type { OperationScript } from './operation-script.ts';
import type { CommandOutcome, Transport } from './transport.ts';

/** What a batch asks of each of its devices. */
export interface DeviceJob {
  operationId: string;
  batchId: string;
  siteId: string;
  script: OperationScript;
  timeoutMs: number;
}

type Verdict = Pick<DeviceResult, 'status' | 'exitCode' | 'stdout' | 'stderr' | 'output' | 'error'>;

/**
 * Runs a job's script on one device and reports its final result. A device's failure becomes
 * its result; only an abort of `signal` throws, because then the device has no final result.
 */
export async function runOnDevice(
  transport: Transport,
  device: DeviceTarget,
  job: DeviceJob,
  signal: AbortSignal,
): Promise<DeviceResult> {
  const started = new Date();
  let verdict: Verdict;
  try {
    const outcome = await transport.run(device, job.script.script, {
      timeoutMs: job.timeoutMs,
      signal,
    });
    verdict = judgeOutcome(outcome, job.script);
  } catch (error) {
    if (signal.aborted) throw error;
    verdict = judgeError(error);
  }
  const finished = new Date();
  return {
    operationId: job.operationId,
    deviceId: device.deviceId,
    siteId: job.siteId,
    batchId: job.batchId,
    ...verdict,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: Math.max(0, finished.getTime() - started.getTime()),
  };
}

/** Maps how a command ended to a result state, parsing a built-in script's JSON. */
export function judgeOutcome(outcome: CommandOutcome, script: OperationScript): Verdict {
  const base = { exitCode: outcome.exitCode, stdout: outcome.stdout, stderr: outcome.stderr };
  if (outcome.state === 'TimedOut') {
    return { ...base, status: 'TimedOut', error: 'the command passed its per-device timeout' };
  }
  if (outcome.exitCode !== 0) {
    const code = outcome.exitCode === undefined ? 'no exit code' : `exit code ${outcome.exitCode}`;
    return { ...base, status: 'Failed', error: `the command ended with ${code}` };
  }
  if (!script.output) return { ...base, status: 'Success' };
  const output = parseOutput(outcome.stdout, script.output);
  if (output.ok) return { ...base, status: 'Success', output: output.value };
  return { ...base, status: 'Failed', error: output.error };
}

function parseOutput(
  stdout: string,
  schema: NonNullable<OperationScript['output']>,
): { ok: true; value: unknown } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(stdout.trim());
  } catch {
    return { ok: false, error: `expected one JSON document on stdout, got ${preview(stdout)}` };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0];
  const where = issue?.path.join('.') || 'the document';
  return { ok: false, error: `unexpected script output at ${where}: ${issue?.message}` };
}

/**
 * A transport error is Unreachable when its kind says so (or it is a connect timeout: no TCP
 * connection at all); anything else failed the command.
 */
export function judgeError(error: unknown): Verdict {
  const status: FinalDeviceState = isUnreachable(error) ? 'Unreachable' : 'Failed';
  return { status, error: error instanceof Error ? error.message : String(error) };
}

function isUnreachable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || !('kind' in error)) return false;
  if (error.kind === 'unreachable') return true;
  return error.kind === 'timeout' && 'phase' in error && error.phase === 'connect';
}

function preview(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return 'nothing';
  return JSON.stringify(trimmed.length > 80 ? `${trimmed.slice(0, 80)}...` : trimmed);
}
