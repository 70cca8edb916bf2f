// (f) Start-to-ready and idle memory of `conductor run`: the default pipeline (fs-source,
// schema-validate, sanitize, rate-limit, git-sink, audit-log) plus health and prometheus on free
// ports, spawned as the real CLI; /ready is polled every 5 ms until it answers 200. Then, after a
// quiet period, the idle RSS from /proc/<pid>/status. Compared with the floor of any Node
// service: a bare `node` process serving 200 on /ready (node:http, nothing else). Each run
// starts twice with a compile cache of its own (NODE_COMPILE_CACHE): first empty, as the first
// start after an install finds it, then filled, as every later start does; the targets are
// about the later starts. A third start is a new pod's first: its cache filled the way the image
// build fills it (`conductor once` on an empty data dir, then every plugin module imported) and
// read-only, as the image's is to the app's user.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

/** The image's user (Dockerfile USER): a new pod runs as it, and it can only read the build's cache. */
const APP_USER = 65532;

/**
 * Spawn options that run the process as the image's user, when the bench can (as root): the
 * scratch directory becomes that user's, as /data is in the image. Otherwise none.
 */
function asAppUser(dir: string): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  execFileSync('chown', ['-R', `${APP_USER}:${APP_USER}`, dir]);
  return { uid: APP_USER, gid: APP_USER };
}

export async function measureConductor(compileCache: string, imageUser = false): Promise<StartMeasured> {
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
    const user = imageUser ? asAppUser(dir.dir) : {};
    return await measureAt(port, () =>
      spawn(process.execPath, [...profileArgs('f-conductor'), CLI, 'run', '--config', config], {
        cwd: REPO_ROOT,
        env: { ...process.env, CONDUCTOR_LOG_LEVEL: 'warn', NODE_COMPILE_CACHE: compileCache },
        stdio: ['ignore', 'ignore', 'pipe'],
        ...user,
      }),
    );
  } finally {
    dir.remove();
  }
}

interface FillStep {
  argv: string[];
  /** The ENV lines of the stage before this step. */
  env: Record<string, string>;
}

/** The exec-form RUN steps of the Dockerfile's compile-cache stage (continuations joined as Docker does). */
export function imageFillSteps(dockerfile: string): FillStep[] {
  const stage = /^FROM \S+ AS compile-cache\n([\s\S]*?)^FROM /m.exec(dockerfile.replaceAll('\\\n', ''))?.[1] ?? '';
  const steps: FillStep[] = [];
  const env: Record<string, string> = {};
  for (const [, keyword, args] of stage.matchAll(/^(RUN|ENV) (.*)$/gm)) {
    if (keyword === 'RUN') steps.push({ argv: JSON.parse(args!) as string[], env: { ...env } });
    const equals = args!.indexOf('=');
    if (keyword === 'ENV' && equals > 0) env[args!.slice(0, equals)] = args!.slice(equals + 1).replace(/^"|"$/g, '');
  }
  return steps;
}

/**
 * Fills `cacheDir` with the Dockerfile's own steps (stage compile-cache), run here: its node is
 * this one, /app this checkout, its scratch data directory one of ours. Where the bench runs as
 * root, the steps run as the image's user and the cache then becomes root's, as the runtime
 * stage's COPY makes it (the started process, as the image's user, can only read it); elsewhere
 * the cache is made read-only instead.
 */
export function fillLikeTheImage(cacheDir: string): void {
  const steps = imageFillSteps(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'));
  if (steps.length === 0) throw new Error('the Dockerfile has no compile-cache stage with RUN steps');
  const data = scratch('compile-cache-fill');
  try {
    const user = asAppUser(data.dir);
    if (user.uid !== undefined) execFileSync('chown', ['-R', `${APP_USER}:${APP_USER}`, cacheDir]);
    for (const {
      argv: [node, ...args],
      env,
    } of steps) {
      if (node !== '/nodejs/bin/node') throw new Error(`a compile-cache step runs ${node}, not the image's node`);
      const here = args.map((arg) => (arg === '/tmp/compile-cache-fill' ? join(data.dir, 'data') : arg));
      const stepEnv = { ...process.env, ...env, NODE_COMPILE_CACHE: cacheDir, CONDUCTOR_LOG_LEVEL: 'warn' };
      execFileSync(process.execPath, here, { cwd: REPO_ROOT, env: stepEnv, stdio: 'ignore', ...user });
    }
    if (user.uid !== undefined) execFileSync('chown', ['-R', '0:0', cacheDir]);
    else execFileSync('chmod', ['-R', 'a-w', cacheDir]);
  } finally {
    data.remove();
  }
}

const BARE_SERVER = `require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.argv[1]), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));`;

export async function measureBareNode(): Promise<StartMeasured> {
  const port = await freePort();
  return measureAt(port, () => spawn(process.execPath, ['-e', BARE_SERVER, String(port)], { stdio: ['ignore', 'ignore', 'pipe'] }));
}

/** What the starts measured: with a filled cache, an empty one, the image's, and the bare node floor. */
interface StartupRuns {
  conductor: StartMeasured[];
  cold: StartMeasured[];
  image: StartMeasured[];
  bare: StartMeasured[];
}

async function measureStarts(ctx: BenchContext): Promise<StartupRuns> {
  const measured: StartupRuns = { conductor: [], cold: [], image: [], bare: [] };
  for (let i = 0; i < ctx.runs; i += 1) {
    ctx.log(`(f) run ${i + 1}/${ctx.runs}`);
    const cache = scratch('compile-cache');
    try {
      measured.cold.push(await measureConductor(cache.dir));
      measured.conductor.push(await measureConductor(cache.dir));
    } finally {
      cache.remove();
    }
    const built = scratch('compile-cache-image');
    try {
      fillLikeTheImage(built.dir);
      measured.image.push(await measureConductor(built.dir, true));
    } finally {
      execFileSync('chmod', ['-R', 'u+w', built.dir]);
      built.remove();
    }
    measured.bare.push(await measureBareNode());
  }
  return measured;
}

/** The later starts (compile cache filled) against the bare node floor. */
function warmFigures({ conductor, bare }: StartupRuns): ReturnType<typeof figure>[] {
  return [
    figure(
      'readyMs',
      'start → /ready 200',
      'ms',
      conductor.map((m) => m.readyMs),
      { op: '<=', value: 400 },
    ),
    figure(
      'bareReadyMs',
      'bare node http server start → 200',
      'ms',
      bare.map((m) => m.readyMs),
    ),
    figure(
      'readyRatio',
      'conductor/bare start time',
      '×',
      conductor.map((m, i) => m.readyMs / bare[i]!.readyMs),
    ),
    figure(
      'idleRss',
      'idle RSS',
      'MiB',
      conductor.map((m) => m.idleRssMiB),
      { op: '<=', value: 100 },
    ),
    figure(
      'bareIdleRss',
      'bare node http server idle RSS',
      'MiB',
      bare.map((m) => m.idleRssMiB),
    ),
    figure(
      'stopMs',
      'SIGTERM → exit (idle)',
      'ms',
      conductor.map((m) => m.stopMs),
    ),
  ];
}

/** The first start after an install, and a new pod's first start. */
function firstStartFigures({ cold, image }: StartupRuns): ReturnType<typeof figure>[] {
  return [
    figure(
      'coldReadyMs',
      'first start after an install (empty compile cache) → /ready 200',
      'ms',
      cold.map((m) => m.readyMs),
    ),
    figure(
      'coldIdleRss',
      'first start after an install: idle RSS',
      'MiB',
      cold.map((m) => m.idleRssMiB),
    ),
    figure(
      'imageReadyMs',
      "a new pod's first start (compile cache from the image build, read-only) → /ready 200",
      'ms',
      image.map((m) => m.readyMs),
    ),
    figure(
      'imageIdleRss',
      "a new pod's first start: idle RSS",
      'MiB',
      image.map((m) => m.idleRssMiB),
    ),
  ];
}

export async function run(ctx: BenchContext): Promise<ScenarioResult> {
  idleSettleMs = ctx.quick ? 1_500 : 3_000;
  // The scenarios before this one leave a lot of written and deleted files to the disk.
  execFileSync('sync');
  const measured = await measureStarts(ctx);
  return {
    id: 'f',
    title: 'start to /ready and idle RSS (`conductor run`, default pipeline + health + prometheus)',
    status: 'ok',
    setup: {
      runs: ctx.runs,
      idleSettleMs,
      pollMs: 5,
      pipeline: 'fs-source, schema-validate, sanitize, rate-limit, git-sink, audit-log, prometheus, health',
    },
    figures: [...warmFigures(measured), ...firstStartFigures(measured)],
    notes: [],
  };
}
