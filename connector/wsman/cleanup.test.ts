import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { CleanupQueue } from './cleanup.ts';

function deferred() {
  let resolve: () => void = () => undefined;
  let reject: (error: Error) => void = () => undefined;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('CleanupQueue', () => {
  it('runs one task at a time per device and at most maxRunning in all', async () => {
    const queue = new CleanupQueue({ maxRunning: 2, maxPending: 100 });
    const started: string[] = [];
    const gates = new Map<string, ReturnType<typeof deferred>>();
    const task = (name: string) => () => {
      started.push(name);
      const gate = deferred();
      gates.set(name, gate);
      return gate.promise;
    };

    const all = [
      queue.run('a', 'signal', task('a1')),
      queue.run('a', 'delete', task('a2')),
      queue.run('b', 'signal', task('b1')),
      queue.run('c', 'signal', task('c1')),
    ];
    expect(started).toEqual(['a1', 'b1']);
    gates.get('a1')?.resolve();
    await all[0];
    expect(started).toEqual(['a1', 'b1', 'a2']);
    gates.get('b1')?.resolve();
    await all[2];
    expect(started).toEqual(['a1', 'b1', 'a2', 'c1']);
    gates.get('a2')?.resolve();
    gates.get('c1')?.resolve();
    await queue.drain();
    expect(queue.pending).toBe(0);
  });

  it('logs a failed task at warn, counts it and resolves false', async () => {
    const lines: unknown[] = [];
    const stream = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        lines.push(JSON.parse(chunk.toString('utf8')));
        done();
      },
    });
    const queue = new CleanupQueue({ maxRunning: 4, maxPending: 4, logger: pino(stream) });

    const ok = await queue.run('127.120.0.1:5985', 'shell delete', () =>
      Promise.reject(new Error('connection reset')),
    );

    expect(ok).toBe(false);
    expect(queue.failures).toBe(1);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 40,
        msg: 'wsman clean-up failed',
        endpoint: '127.120.0.1:5985',
        cleanup: 'shell delete',
        err: expect.objectContaining({ message: 'connection reset' }),
      }),
    ]);
  });

  it('holds waitForRoom while the backlog is at maxPending', async () => {
    const queue = new CleanupQueue({ maxRunning: 1, maxPending: 2 });
    const gate = deferred();
    void queue.run('a', 'signal', () => gate.promise);
    void queue.run('b', 'signal', () => Promise.resolve());
    let roomed = false;

    const room = queue.waitForRoom().then(() => {
      roomed = true;
    });
    await Promise.resolve();
    expect(roomed).toBe(false);
    gate.resolve();
    await room;
    expect(roomed).toBe(true);
    await queue.drain();
  });
});
