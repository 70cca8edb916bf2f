// The intents every scenario generates: valid scaling intents spread over a fixed set of targets
// (so per-target ordering and package updates are exercised), each under its own file name.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Intent } from '../../core/index.ts';

/** How many distinct targets the generated intents spread over. */
export const TARGETS = 256;
export const NAMESPACE = 'oran-odu';

export function benchIntent(i: number, tag: string): Intent {
  return {
    intent_type: 'scaling',
    target: `nf-${i % TARGETS}`,
    namespace: NAMESPACE,
    replicas: (i % 9) + 1,
    source: 'test',
    priority: 5,
    reason: `benchmark ${tag} number ${i}`,
  };
}

export function fileName(i: number, tag: string): string {
  return `intent-${tag}-${String(i).padStart(7, '0')}.json`;
}

const encoder = new TextEncoder();

export interface Item {
  file: string;
  bytes: Uint8Array;
}

/** Pre-encoded intents for in-memory feeding (no I/O in the measured loop). */
export function encodedIntents(count: number, tag: string): Item[] {
  const items: Item[] = [];
  for (let i = 0; i < count; i += 1) items.push({ file: fileName(i, tag), bytes: encoder.encode(JSON.stringify(benchIntent(i, tag))) });
  return items;
}

/** Writes `count` intent files straight into handoff/ (a backlog present before the start). */
export function writeBacklog(handoff: string, count: number, tag: string): string[] {
  mkdirSync(handoff, { recursive: true });
  const names: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const name = fileName(i, tag);
    writeFileSync(join(handoff, name), JSON.stringify(benchIntent(i, tag)));
    names.push(name);
  }
  return names;
}

/** Writes one intent the way producers should: to a hidden temporary name, then a rename. */
export function dropAtomically(handoff: string, name: string, content: string): void {
  const temporary = join(handoff, `.${name}.tmp`);
  writeFileSync(temporary, content);
  renameSync(temporary, join(handoff, name));
}
