// Real pipelines in-process, built the way the CLI builds them: the config resolved and
// validated by the core, then createConductor with real plugins over a temporary data dir.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createConductor, type Conductor } from '../../../core/app.ts';
import { resolveConfig } from '../../../core/config/validate.ts';
import { createLogger, silentLogger } from '../../../core/log.ts';
import type { ConductorConfig, LogLevel } from '../../../core/index.ts';
import { waitFor } from '../../support/wait.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface DataDirFixture {
  root: string;
  handoff: string;
  cleanup(): void;
}

export function makeDataDir(): DataDirFixture {
  const root = mkdtempSync(join(tmpdir(), 'conductor-observability-'));
  const handoff = join(root, 'handoff');
  mkdirSync(handoff, { recursive: true });
  return { root, handoff, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export function scaling(target: string, replicas: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { intent_type: 'scaling', target, namespace: 'ran', replicas, ...extra };
}

/** Writes an intent file into handoff/ (an object as JSON, a string as is). */
export function dropIntent(handoff: string, name: string, intent: Record<string, unknown> | string): void {
  writeFileSync(join(handoff, name), typeof intent === 'string' ? intent : JSON.stringify(intent));
}

/** Settings that keep tests fast: short backoff (fs-source's debounceMs: 0 is set per test). */
export const FAST = {
  concurrency: 8,
  retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 5, budgetMs: 5_000 },
} as const;

export interface OpenOptions {
  mode?: 'run' | 'once';
  /** Log file for the pipeline's pino logger; silent when absent. */
  logFile?: string;
  logLevel?: LogLevel;
  env?: NodeJS.ProcessEnv;
}

/** Builds a pipeline (`run` mode unless told otherwise) from a config, as the CLI would. */
export async function openPipeline(config: ConductorConfig, options: OpenOptions = {}): Promise<Conductor> {
  const resolved = await resolveConfig(config, {
    source: 'test',
    baseDir: REPO_ROOT,
    ...(options.env === undefined ? {} : { env: options.env }),
  });
  const log =
    options.logFile === undefined ? silentLogger() : createLogger({ level: options.logLevel ?? 'trace', destination: options.logFile });
  return createConductor(resolved, { log, mode: options.mode ?? 'run' });
}

/**
 * Counts settled intents, to wait for "n intents done" in `run` mode. (`once` mode's idle() is
 * not used for this: fs-source can report idle while a file waits for a free place.)
 */
export function settledCounter(conductor: Conductor): () => number {
  let settled = 0;
  conductor.events.settled.tap('test-settled-counter', () => {
    settled += 1;
  });
  return () => settled;
}

/** Starts a `run` pipeline and waits until `count` intents have settled. */
export async function startAndSettle(conductor: Conductor, count: number, timeoutMs = 20_000): Promise<() => number> {
  const settled = settledCounter(conductor);
  await conductor.start();
  await waitFor(`${count} settled intents`, () => settled() >= count, timeoutMs);
  return settled;
}

export interface StatusFile {
  file: string;
  intentId: string;
  status: string;
  traceId?: string;
  [key: string]: unknown;
}

export function readStatusFiles(root: string): StatusFile[] {
  const dir = join(root, 'status');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.status.json'))
    .map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as StatusFile);
}

export function readJsonLines(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
