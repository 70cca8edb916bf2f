// Temporary data directories and intent files for tests.
import { mkdtempSync, mkdirSync, readdirSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Intent } from '../../core/index.ts';

/** The blueprint the project ships, which the git sink instantiates for new targets. */
export const BLUEPRINT = fileURLToPath(new URL('../../examples/blueprints/deployment', import.meta.url));

export function tempDir(prefix = 'conductor-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function makeDataDir(): { root: string; handoff: string; cleanup(): void } {
  const root = tempDir();
  const handoff = join(root, 'handoff');
  mkdirSync(handoff, { recursive: true });
  return { root, handoff, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export function scaling(target: string, replicas: number, extra: Partial<Intent> = {}): Intent {
  return { intent_type: 'scaling', target, namespace: 'oran-odu', replicas, source: 'test', ...extra };
}

/** Writes an intent file; with `atomic`, through a temporary name and a rename, as producers should. */
export function dropIntent(handoff: string, name: string, content: unknown, options: { atomic?: boolean; ageMs?: number } = {}): string {
  const text = typeof content === 'string' ? content : JSON.stringify(content);
  const path = join(handoff, name);
  if (options.atomic) {
    const temporary = join(handoff, `.${name}.tmp`);
    writeFileSync(temporary, text);
    renameSync(temporary, path);
  } else writeFileSync(path, text);
  if (options.ageMs !== undefined) {
    const when = new Date(Date.now() - options.ageMs);
    utimesSync(path, when, when);
  }
  return path;
}

export function list(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

export function writeJsonConfig(dir: string, config: unknown, name = 'conductor.config.json'): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

/** A config for tests: the default pipeline (with the shipped blueprint) without debounce or pacing. */
export function fastConfig(dataDir: string, plugins: Record<string, Record<string, unknown>> = {}): Record<string, unknown> {
  return {
    dataDir,
    logLevel: 'warn',
    plugins: {
      'fs-source': { debounceMs: 0 },
      'schema-validate': {},
      sanitize: {},
      'git-sink': { blueprint: BLUEPRINT },
      'audit-log': {},
      ...plugins,
    },
  };
}
