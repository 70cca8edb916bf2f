// The pipelines the scenarios run: every default stage (schema-validate, sanitize, rate-limit
// with a limit that never binds), audit-log and prometheus on, and the sink the scenario names.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

/** A temporary directory for one measurement, removed afterwards unless BENCH_KEEP is set. */
export function scratch(label: string): Scratch {
  const dir = mkdtempSync(join(tmpdir(), `conductor-bench-${label}-`));
  return { dir, remove: () => (process.env['BENCH_KEEP'] ? undefined : rmSync(dir, { recursive: true, force: true })) };
}
