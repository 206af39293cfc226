// Preloaded into each connector process by the bench (NODE_OPTIONS=--import, since --cpu-prof
// is not allowed there) when WINFLEET_BENCH_PROFILE_DIR is set: a CPU profile of the whole
// process and its memory use sampled every 250 ms, both written when the process exits.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.WINFLEET_BENCH_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  const peak = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  const sample = () => {
    const usage = process.memoryUsage();
    for (const key of Object.keys(peak)) peak[key] = Math.max(peak[key], usage[key]);
  };
  setInterval(sample, 250).unref();
  process.once('exit', () => {
    sample();
    const name = `connector-${process.pid}`;
    // A session on this thread answers synchronously, so this works inside 'exit'.
    session.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(join(dir, `${name}.cpuprofile`), JSON.stringify(result.profile));
    });
    const mb = Object.fromEntries(
      Object.entries(peak).map(([k, v]) => [k, Math.round(v / 2 ** 20)]),
    );
    writeFileSync(join(dir, `${name}.memory.json`), `${JSON.stringify(mb)}\n`);
  });
}
