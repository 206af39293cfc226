import { PassThrough } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createProgressDisplay } from './progress.ts';

/** A stream that collects what is written, posing as a terminal or as a pipe. */
function sink(isTTY: boolean) {
  const stream = Object.assign(new PassThrough(), { isTTY, columns: 100 });
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
}

describe('createProgressDisplay', () => {
  it('writes a line per site only when its count changes, off a terminal', () => {
    const out = sink(false);
    const display = createProgressDisplay(out.stream);

    display.update([{ siteId: 'site-01', done: 0, failed: 0, total: 5 }]);
    display.update([{ siteId: 'site-01', done: 0, failed: 0, total: 5 }]);
    display.update([
      { siteId: 'site-01', done: 5, failed: 1, total: 5 },
      { siteId: 'site-02', done: 2, failed: 0, total: 4 },
    ]);
    display.stop();

    expect(out.text()).toBe(
      'progress site-01 0/5 failed 0\n' +
        'progress site-01 5/5 failed 1\n' +
        'progress site-02 2/4 failed 0\n',
    );
  });

  it('draws a bar per site on a terminal', () => {
    const out = sink(true);
    const display = createProgressDisplay(out.stream);

    display.update([
      { siteId: 'site-01', done: 1, failed: 0, total: 4 },
      { siteId: 'site-10', done: 0, failed: 0, total: 2 },
    ]);
    display.update([
      { siteId: 'site-01', done: 4, failed: 1, total: 4 },
      { siteId: 'site-10', done: 2, failed: 0, total: 2 },
    ]);
    display.stop();

    const plain = stripVTControlCharacters(out.text());
    expect(plain).toMatch(/site-01 \[[^\]]+\] 4\/4 failed 1/);
    expect(plain).toMatch(/site-10 \[[^\]]+\] 2\/2 failed 0/);
  });
});
