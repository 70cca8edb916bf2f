// Running the real `conductor` CLI for a measurement: wall time, exit code, peak RSS and CPU
// (through a --import preload that reports them at exit), and the audit log's timestamps.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI, REPO_ROOT } from './config.ts';
import { memoryOf, profileArgs, waitFor } from './child.ts';

const PRELOAD = fileURLToPath(new URL('./usage-preload.js', import.meta.url));

export interface CliRun {
  code: number | null;
  wallMs: number;
  stderr: string;
  /** Peak RSS reported by the process itself at exit. */
  maxRssMiB: number;
  /** Peak RSS as last sampled from /proc/<pid>/status (VmHWM) while it ran. */
  sampledHwmMiB: number;
  cpuMs: number;
}

export async function runCli(
  args: string[],
  options: { label: string; timeoutMs?: number; usageDir: string; env?: Readonly<Record<string, string>> },
): Promise<CliRun> {
  const usageFile = join(options.usageDir, `usage-${process.hrtime.bigint()}.json`);
  const started = performance.now();
  const child = spawn(process.execPath, [...profileArgs(options.label), '--import', PRELOAD, CLI, ...args], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      BENCH_USAGE_FILE: usageFile,
      CONDUCTOR_LOG_LEVEL: 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let sampledHwmMiB = 0;
  const sampler = setInterval(() => {
    const memory = child.pid === undefined ? undefined : memoryOf(child.pid);
    if (memory !== undefined && Number.isFinite(memory.hwmMiB)) sampledHwmMiB = Math.max(sampledHwmMiB, memory.hwmMiB);
  }, 100);
  try {
    const { code, stderr } = await waitFor(child, options.timeoutMs ?? 600_000);
    const wallMs = performance.now() - started;
    let usage = { maxRssKiB: Number.NaN, userUs: Number.NaN, systemUs: Number.NaN };
    if (existsSync(usageFile)) {
      usage = JSON.parse(readFileSync(usageFile, 'utf8')) as typeof usage;
      rmSync(usageFile, { force: true });
    }
    return { code, wallMs, stderr, maxRssMiB: usage.maxRssKiB / 1024, sampledHwmMiB, cpuMs: (usage.userUs + usage.systemUs) / 1000 };
  } finally {
    clearInterval(sampler);
  }
}

/** The `time` of every record in the audit log (ms since the epoch), in file order. */
export function auditTimes(dataDir: string): number[] {
  const path = join(dataDir, 'audit', 'audit.log');
  if (!existsSync(path)) return [];
  const times: number[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line === '') continue;
    const at = /"time":"([^"]+)"/.exec(line)?.[1];
    if (at !== undefined) times.push(Date.parse(at));
  }
  return times;
}

/** Intents per second between the first and the last settle (startup and shutdown excluded). */
export function steadyRate(times: number[]): number {
  if (times.length < 2) return Number.NaN;
  const span = (times.at(-1)! - times[0]!) / 1000;
  return span <= 0 ? Number.NaN : (times.length - 1) / span;
}

/** Throughput in the first and the last quarter of the settles. */
export function quarterRates(times: number[]): { first: number; last: number } {
  const n = times.length;
  const q = Math.floor(n / 4);
  if (q < 2) return { first: Number.NaN, last: Number.NaN };
  const rateOf = (from: number, to: number) => (to - from) / Math.max(0.001, (times[to]! - times[from]!) / 1000);
  return { first: rateOf(0, q), last: rateOf(n - 1 - q, n - 1) };
}

/** What the image's runtime stage sets that bounds a process's memory: V8's heap, glibc's malloc arenas. */
const IMAGE_MEMORY_ENV = ['NODE_OPTIONS', 'MALLOC_ARENA_MAX'];

/** Those variables as the Dockerfile's runtime stage (its last) sets them: read, so the two cannot drift. */
export function imageEnv(): Record<string, string> {
  const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const read = (name: string) => {
    const value = new RegExp(`^ENV ${name}=(?:"([^"]*)"|(\\S+))`, 'm').exec(runtime);
    if (value === null) throw new Error(`the Dockerfile's runtime stage sets no ${name}`);
    return value[1] ?? value[2]!;
  };
  return Object.fromEntries(IMAGE_MEMORY_ENV.map((name) => [name, read(name)]));
}
