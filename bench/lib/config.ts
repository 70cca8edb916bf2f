// The pipelines the scenarios run: every default stage (schema-validate, sanitize, rate-limit
// with a limit that never binds), audit-log and prometheus on, and the sink the scenario names.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createConductor, type Conductor } from '../../core/app.ts';
import { resolveConfig } from '../../core/config/validate.ts';
import { silentLogger } from '../../core/log.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = join(REPO_ROOT, 'core/cli/conductor.js');
export const NULL_SINK_MODULE = fileURLToPath(new URL('./sinks.ts', import.meta.url));

/** 60 M/min with a burst of 1 M: a one-second window of a million tokens, far above any rate here. */
export const NON_BINDING_RATE_LIMIT = { requestsPerMinute: 60_000_000, burst: 1_000_000 };

export interface PipelineShape {
  dataDir: string;
  concurrency: number;
  /** Plugin id → options of the sink (and anything else to add). */
  sink: Record<string, Record<string, unknown>>;
  modules?: Record<string, unknown>;
  fsSource?: Record<string, unknown> | false;
  /** Extra plugins (health, …). */
  extra?: Record<string, Record<string, unknown>>;
  prometheus?: boolean;
  logLevel?: string;
}

export function benchConfig(shape: PipelineShape): Record<string, unknown> {
  return {
    dataDir: shape.dataDir,
    logLevel: shape.logLevel ?? 'warn',
    concurrency: shape.concurrency,
    ...(shape.modules === undefined ? {} : { modules: shape.modules }),
    plugins: {
      ...(shape.fsSource === false ? {} : { 'fs-source': { debounceMs: 0, ...shape.fsSource } }),
      'schema-validate': {},
      sanitize: {},
      'rate-limit': NON_BINDING_RATE_LIMIT,
      ...shape.sink,
      'audit-log': {},
      ...(shape.prometheus === false ? {} : { prometheus: { port: 0, host: '127.0.0.1' } }),
      ...shape.extra,
    },
  };
}

export async function buildConductor(config: Record<string, unknown>, mode: 'once' | 'run'): Promise<Conductor> {
  const resolved = await resolveConfig(config, { source: 'bench', baseDir: REPO_ROOT });
  return createConductor(resolved, { log: silentLogger(), mode });
}

export function writeConfig(dir: string, config: Record<string, unknown>): string {
  const path = join(dir, 'conductor.config.json');
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

export interface Scratch {
  dir: string;
  remove(): void;
}

/**
 * Where a bench run keeps its scratch directories, inherited by the processes it starts: set by
 * `holdScratch`. While it is set nothing is deleted until the run ends.
 */
const SCRATCH_ROOT = 'CONDUCTOR_BENCH_SCRATCH';

/**
 * Keeps every scratch directory of this run (and of the processes it starts) until `release`,
 * instead of deleting each after its measurement. On a filesystem without a journal (ext4 as
 * some virtual machines mount it), inode allocation steps over every inode freed in the last
 * 5 s — 5 minutes while its inode table block is still dirty — so a measurement that followed
 * the deletion of the previous one's thousands of files paid for them in every file it created:
 * grouped commits at 1,000 intents took 2.6-3.0 s after a deletion, 0.9-1.2 s without one.
 */
export function holdScratch(): { release(): void } {
  const root = mkdtempSync(join(tmpdir(), 'conductor-bench-'));
  // Open to every user, as the temporary directory it stands for: (f) runs steps as the image's user.
  chmodSync(root, 0o755);
  spreadSubdirectories(root);
  process.env[SCRATCH_ROOT] = root;
  return {
    release: () => {
      delete process.env[SCRATCH_ROOT];
      if (!process.env['BENCH_KEEP']) rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * Marks `dir` as the top of a hierarchy (`chattr +T`) where the filesystem understands it (ext2/3/4):
 * each directory made in it then gets a block group of its own, so a measurement's files are
 * not created among the inodes the measurements before it freed. Elsewhere nothing happens.
 */
function spreadSubdirectories(dir: string): void {
  try {
    execFileSync('chattr', ['+T', dir], { stdio: 'ignore' });
  } catch {
    // No chattr, or a filesystem without the flag: allocation there does not step over freed inodes.
  }
}

/**
 * A temporary directory for one measurement. Removed afterwards unless BENCH_KEEP is set, or
 * at the end of the run when the run holds its scratch (`holdScratch`).
 */
export function scratch(label: string): Scratch {
  const held = process.env[SCRATCH_ROOT];
  const dir = mkdtempSync(join(held ?? tmpdir(), `conductor-bench-${label}-`));
  const remove = () => (held !== undefined || process.env['BENCH_KEEP'] ? undefined : rmSync(dir, { recursive: true, force: true }));
  return { dir, remove };
}
