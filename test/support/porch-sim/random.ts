// Deterministic randomness, so that fault injection and resourceVersions are reproducible
// from a seed (a test that fails can be replayed exactly).

import { createHash } from 'node:crypto';

/** A small seeded PRNG (mulberry32). Returns numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Opaque resourceVersions shaped like git commit SHAs (40 hex), as the git/CR cache
 * serves them (docs/porch.md §PackageRevision). Deterministic for a given seed.
 */
export function commitShaSequence(seed: number): () => string {
  let counter = 0;
  return () => {
    counter += 1;
    return createHash('sha1').update(`porch-sim:${seed}:${counter}`).digest('hex');
  };
}
