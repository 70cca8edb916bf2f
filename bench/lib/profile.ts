// Reads a V8 .cpuprofile (from --cpu-prof) and lists the hot spots: self time per function
// (file:line), and inclusive time per function, the two views a flame graph gives.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from './config.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface HotSpot {
  where: string;
  selfMs: number;
  selfPct: number;
  totalMs: number;
  totalPct: number;
}

function location(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  let file = url;
  if (url.startsWith('file://')) {
    try {
      file = relative(REPO_ROOT, fileURLToPath(url));
    } catch {
      file = url;
    }
  }
  const name = functionName || '(anonymous)';
  return file ? `${name} ${file}:${lineNumber + 1}` : name;
}

export function hotSpots(path: string, top = 25): { totalMs: number; idleMs: number; self: HotSpot[]; inclusive: HotSpot[] } {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<string, number>();
  const totalUs = new Map<string, number>();
  let all = 0;
  for (let i = 0; i < profile.samples.length; i += 1) {
    const delta = profile.timeDeltas[i + 1] ?? 0;
    const node = byId.get(profile.samples[i]!);
    if (node === undefined) continue;
    all += delta;
    const here = location(node);
    selfUs.set(here, (selfUs.get(here) ?? 0) + delta);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const where = location(byId.get(id)!);
      if (seen.has(where)) continue;
      seen.add(where);
      totalUs.set(where, (totalUs.get(where) ?? 0) + delta);
    }
  }
  const spot = (where: string): HotSpot => ({
    where,
    selfMs: (selfUs.get(where) ?? 0) / 1000,
    selfPct: ((selfUs.get(where) ?? 0) / all) * 100,
    totalMs: (totalUs.get(where) ?? 0) / 1000,
    totalPct: ((totalUs.get(where) ?? 0) / all) * 100,
  });
  const skip = (where: string) => /^\((root|program|idle)\)/.test(where);
  const self = [...selfUs.keys()]
    .filter((w) => !skip(w))
    .map(spot)
    .sort((a, b) => b.selfMs - a.selfMs)
    .slice(0, top);
  const inclusive = [...totalUs.keys()]
    .filter((w) => !skip(w))
    .map(spot)
    .sort((a, b) => b.totalMs - a.totalMs)
    .slice(0, top);
  const idleMs = ((selfUs.get('(idle)') ?? 0) + (selfUs.get('(program)') ?? 0)) / 1000;
  return { totalMs: all / 1000, idleMs, self, inclusive };
}

export function formatHotSpots(path: string, top = 25): string {
  const { totalMs, idleMs, self, inclusive } = hotSpots(path, top);
  const row = (h: HotSpot, key: 'self' | 'total') =>
    `${(key === 'self' ? h.selfPct : h.totalPct).toFixed(1).padStart(5)}%  ${(key === 'self' ? h.selfMs : h.totalMs).toFixed(0).padStart(7)} ms  ${h.where}`;
  return [
    `${path} (${totalMs.toFixed(0)} ms sampled, ${((idleMs / totalMs) * 100).toFixed(0)}% idle/program: the main thread waiting)`,
    'self time:',
    ...self.map((h) => row(h, 'self')),
    'inclusive time:',
    ...inclusive.map((h) => row(h, 'total')),
  ].join('\n');
}

if (import.meta.main) {
  const [file, top] = process.argv.slice(2);
  if (file === undefined) {
    console.error('usage: node bench/lib/profile.ts FILE.cpuprofile [TOP]');
    process.exit(2);
  }
  console.log(formatHotSpots(file, top === undefined ? 25 : Number(top)));
}
