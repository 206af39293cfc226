import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const CpuProfile = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() }),
      children: z.array(z.number()).optional(),
    }),
  ),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});

export interface ProfileEntry {
  name: string;
  selfMs: number;
  share: number;
}

/**
 * The heaviest entries of a V8 `.cpuprofile` (from `node --cpu-prof`) by self time, grouped
 * by `group`: per function, or per file (`node_modules/<package>` for dependencies).
 */
export function summarizeProfile(
  path: string,
  group: 'function' | 'file',
  top = 15,
): { busyMs: number; entries: ProfileEntry[] } {
  const profile = CpuProfile.parse(JSON.parse(readFileSync(path, 'utf8')));
  const keyOf = new Map(profile.nodes.map((n) => [n.id, key(n.callFrame, group)]));
  const selfUs = new Map<string, number>();
  let busyUs = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    const name = keyOf.get(id) ?? '(unknown)';
    if (name.startsWith('(idle)')) return;
    selfUs.set(name, (selfUs.get(name) ?? 0) + delta);
    busyUs += delta;
  });
  const entries = [...selfUs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, selfMs: round(us / 1000), share: round(us / busyUs) }));
  return { busyMs: round(busyUs / 1000), entries };
}

/** Every profile in a folder, its heaviest files and functions (shares of its busy time). */
export function summarizeProfiles(dir: string) {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile'))
    .map((name) => ({
      profile: name,
      byFile: summarizeProfile(join(dir, name), 'file', 12),
      byFunction: summarizeProfile(join(dir, name), 'function', 12),
    }));
}

/** The peak memory use (MB) each connector's preloaded profiler wrote at exit. */
export function connectorMemory(dir: string): Record<string, unknown> {
  const files = readdirSync(dir).filter((name) => name.endsWith('.memory.json'));
  return Object.fromEntries(
    files.map((name) => [
      name.replace('.memory.json', ''),
      JSON.parse(readFileSync(join(dir, name), 'utf8')),
    ]),
  );
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function key(frame: { functionName: string; url: string; lineNumber: number }, group: string) {
  const file = shortFile(frame.url);
  if (group === 'file') return file || frame.functionName;
  return `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
}

function shortFile(url: string): string {
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return `node_modules/${modules[1]}`;
  const own = /\/work\/[^/]+\/(.*)$/.exec(url);
  return own?.[1] ?? url;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  const [path, group = 'function'] = process.argv.slice(2);
  if (!path) throw new Error('usage: tsx bench/profile-summary.ts FILE.cpuprofile [function|file]');
  const { busyMs, entries } = summarizeProfile(path, group === 'file' ? 'file' : 'function');
  console.log(`${busyMs.toFixed(0)} ms busy (idle left out)`);
  for (const e of entries) {
    console.log(
      `${e.selfMs.toFixed(0).padStart(7)} ms ${(e.share * 100).toFixed(1).padStart(5)}%  ${e.name}`,
    );
  }
}
