import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

/**
 * Runs `work` under the V8 CPU profiler of this process and writes the profile (a
 * `.cpuprofile` that Chrome DevTools opens) to `path`; without a path just runs `work`.
 */
export async function withCpuProfile<T>(path: string | undefined, work: () => Promise<T>) {
  if (!path) return work();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  try {
    return await work();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(path, JSON.stringify(profile));
    session.disconnect();
  }
}
