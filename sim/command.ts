import { randomUUID } from 'node:crypto';
import { encodeOutput } from './codepage.ts';
import { type Random, randomInt } from './random.ts';

export type StreamName = 'stdout' | 'stderr';

/** One piece of output as it will appear in a `rsp:Stream` element. */
export interface OutputChunk {
  stream: StreamName;
  bytes: Buffer;
}

/** What one Receive hands back: chunks, and the exit code once everything is delivered. */
export interface ReceiveBatch {
  chunks: OutputChunk[];
  done: boolean;
  exitCode?: number;
}

/**
 * A command running in a shell: its output queue (bytes, in the order produced), its stdin
 * and its exit code. The program writes text; Receive takes bytes in pieces of random size.
 */
export class SimCommand {
  readonly id: string;
  readonly abort = new AbortController();
  private readonly queue: OutputChunk[] = [];
  private readonly stdinChunks: Buffer[] = [];
  private readonly stdinWaiters: Array<(bytes: Buffer) => void> = [];
  private stdinEnded = false;
  private listeners: Array<() => void> = [];
  private exitCode: number | undefined;
  /** True once a Receive has delivered Done: the command no longer counts as active. */
  doneDelivered = false;

  /** `id` is the client's CommandId when it chose one, as MS-WSMV allows. */
  constructor(
    readonly codePage: number,
    private readonly random: Random,
    id?: string,
  ) {
    this.id = id?.trim() || randomUUID().toUpperCase();
  }

  get finished(): boolean {
    return this.exitCode !== undefined;
  }

  write(stream: StreamName, text: string): void {
    if (text === '' || this.finished) return;
    this.queue.push({ stream, bytes: encodeOutput(text, this.codePage) });
    this.notify();
  }

  finish(exitCode: number): void {
    if (this.finished) return;
    this.exitCode = exitCode;
    this.notify();
  }

  /** Appends stdin bytes; `end` closes stdin and releases a program waiting for it. */
  sendStdin(bytes: Buffer, end: boolean): void {
    if (this.stdinEnded) return;
    this.stdinChunks.push(bytes);
    if (!end) return;
    this.stdinEnded = true;
    const all = Buffer.concat(this.stdinChunks);
    for (const resolve of this.stdinWaiters.splice(0)) resolve(all);
  }

  /** All of stdin, once the client has sent End="true". */
  readStdin(): Promise<Buffer> {
    if (this.stdinEnded) return Promise.resolve(Buffer.concat(this.stdinChunks));
    return new Promise((resolve) => this.stdinWaiters.push(resolve));
  }

  get hasOutput(): boolean {
    return this.queue.length > 0 || this.finished;
  }

  /**
   * Takes up to `budgetBytes` of queued output, cut at random byte offsets (so a multi-byte
   * character may straddle two chunks or two responses). Done only when nothing remains.
   */
  take(budgetBytes: number): ReceiveBatch {
    const chunks: OutputChunk[] = [];
    let budget = budgetBytes;
    while (budget > 0 && this.queue.length > 0) {
      const head = this.queue[0] as OutputChunk;
      const size = Math.min(head.bytes.length, budget, randomInt(this.random, 1, 512));
      chunks.push({ stream: head.stream, bytes: head.bytes.subarray(0, size) });
      budget -= size;
      if (size === head.bytes.length) this.queue.shift();
      else head.bytes = head.bytes.subarray(size);
    }
    const done = this.finished && this.queue.length === 0;
    return done ? { chunks, done, exitCode: this.exitCode } : { chunks, done };
  }

  /** Resolves true when output or the exit arrives, false after `timeoutMs` or on `signal`. */
  waitForOutput(timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    if (this.hasOutput) return Promise.resolve(true);
    return new Promise((resolve) => {
      const settle = (value: boolean) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.listeners = this.listeners.filter((listener) => listener !== onOutput);
        resolve(value);
      };
      const onOutput = () => settle(true);
      const onAbort = () => settle(false);
      const timer = setTimeout(() => settle(false), timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      this.listeners.push(onOutput);
    });
  }

  /** Stops the program (terminate, ctrl_c, shell deleted or reaped). */
  stop(): void {
    this.abort.abort();
    this.notify();
  }

  private notify(): void {
    for (const listener of this.listeners.slice()) listener();
  }
}
