// (f) Start-to-ready and idle memory of `conductor run`: the default pipeline (fs-source,
// schema-validate, sanitize, rate-limit, git-sink, audit-log) plus health and prometheus on free
// ports, spawned as the real CLI; /ready is polled every 5 ms until it answers 200. Then, after a
// quiet period, the idle RSS from /proc/<pid>/status. Compared with the floor of any Node
// service: a bare `node` process serving 200 on /ready (node:http, nothing else). Each run
// starts twice with a compile cache of its own (NODE_COMPILE_CACHE): first empty, as the first
// start after an install finds it, then filled, as every later start does; the targets are
// about the later starts.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { CLI, REPO_ROOT, benchConfig, scratch, writeConfig } from '../lib/config.ts';
import { memoryOf, profileArgs, waitFor } from '../lib/child.ts';
import { freePort, statusOf } from '../lib/ports.ts';
import { figure, type ScenarioResult } from '../lib/report.ts';
import type { BenchContext } from '../lib/context.ts';

/** How long the process is left alone before its idle RSS is read. */
let idleSettleMs = 3_000;

export interface StartMeasured {
  readyMs: number;
  idleRssMiB: number;
  stopMs: number;
}

async function untilReady(child: ChildProcess, url: string, started: number, timeoutMs = 30_000): Promise<number> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`exited ${child.exitCode} before it was ready`);
    if ((await statusOf(url, 500)) === 200) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`not ready after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Spawns, polls /ready until 200, waits, reads the RSS, then stops it with SIGTERM. */
async function measureAt(port: number, spawnIt: () => ChildProcess): Promise<StartMeasured> {
  const started = performance.now();
  const child = spawnIt();
  const exited = waitFor(child, 120_000);
  try {
    const readyMs = await untilReady(child, `http://127.0.0.1:${port}/ready`, started);
    await new Promise((resolve) => setTimeout(resolve, idleSettleMs));
    const idleRssMiB = memoryOf(child.pid!)?.rssMiB ?? Number.NaN;
    const stopping = performance.now();
    child.kill('SIGTERM');
    await exited;
    return { readyMs, idleRssMiB, stopMs: performance.now() - stopping };
  } catch (error) {
    child.kill('SIGKILL');
    const { stderr } = await exited.catch(() => ({ stderr: '' }));
    throw new Error(`${(error as Error).message}: ${stderr.slice(-1500)}`);
  }
}

export async function measureConductor(compileCache: string): Promise<StartMeasured> {
  const dir = scratch('startup');
  try {
    const port = await freePort();
    const config = writeConfig(
      dir.dir,
      benchConfig({
        dataDir: join(dir.dir, 'data'),
        concurrency: 4,
        fsSource: { debounceMs: 250 },
        sink: { 'git-sink': {} },
        extra: { health: { port, host: '127.0.0.1' } },
      }),
    );
    return await measureAt(port, () =>
      spawn(process.execPath, [...profileArgs('f-conductor'), CLI, 'run', '--config', config], {
        cwd: REPO_ROOT,
        env: { ...process.env, CONDUCTOR_LOG_LEVEL: 'warn', NODE_COMPILE_CACHE: compileCache },
        stdio: ['ignore', 'ignore', 'pipe'],
      }),
    );
  } finally {
    dir.remove();
  }
}

const BARE_SERVER = `require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.argv[1]), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));`;

export async function measureBareNode(): Promise<StartMeasured> {
  const port = await freePort();
  return measureAt(port, () => spawn(process.execPath, ['-e', BARE_SERVER, String(port)], { stdio: ['ignore', 'ignore', 'pipe'] }));
}

export async function run(ctx: BenchContext): Promise<ScenarioResult> {
  idleSettleMs = ctx.quick ? 1_500 : 3_000;
  const conductor: StartMeasured[] = [];
  const cold: StartMeasured[] = [];
  const bare: StartMeasured[] = [];
  // The scenarios before this one leave a lot of written and deleted files to the disk.
  execFileSync('sync');
  for (let i = 0; i < ctx.runs; i += 1) {
    ctx.log(`(f) run ${i + 1}/${ctx.runs}`);
    const cache = scratch('compile-cache');
    try {
      cold.push(await measureConductor(cache.dir));
      conductor.push(await measureConductor(cache.dir));
    } finally {
      cache.remove();
    }
    bare.push(await measureBareNode());
  }
  return {
    id: 'f',
    title: 'start to /ready and idle RSS (`conductor run`, default pipeline + health + prometheus)',
    status: 'ok',
    setup: { runs: ctx.runs, idleSettleMs, pollMs: 5, pipeline: 'fs-source, schema-validate, sanitize, rate-limit, git-sink, audit-log, prometheus, health' },
    figures: [
      figure('readyMs', 'start → /ready 200', 'ms', conductor.map((m) => m.readyMs), { op: '<=', value: 400 }),
      figure('bareReadyMs', 'bare node http server start → 200', 'ms', bare.map((m) => m.readyMs)),
      figure('readyRatio', 'conductor/bare start time', '×', conductor.map((m, i) => m.readyMs / bare[i]!.readyMs)),
      figure('idleRss', 'idle RSS', 'MiB', conductor.map((m) => m.idleRssMiB), { op: '<=', value: 100 }),
      figure('bareIdleRss', 'bare node http server idle RSS', 'MiB', bare.map((m) => m.idleRssMiB)),
      figure('stopMs', 'SIGTERM → exit (idle)', 'ms', conductor.map((m) => m.stopMs)),
      figure('coldReadyMs', 'first start after an install (empty compile cache) → /ready 200', 'ms', cold.map((m) => m.readyMs)),
      figure('coldIdleRss', 'first start after an install: idle RSS', 'MiB', cold.map((m) => m.idleRssMiB)),
    ],
    notes: [],
  };
}
