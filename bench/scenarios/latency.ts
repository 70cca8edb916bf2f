// (d) Latency from the rename into handoff/ to the sink call, at a steady offered rate, with
// `conductor run` built in-process (the real fs-source in run mode, its chokidar watcher, every
// default stage) and a recording sink; the producer renames files in from the same process, so
// both instants come from one clock (performance.now()). Measured with debounceMs 0 (producers
// that rename atomically) and with a configured debounce of 250 ms.
// Compared with the bare loop (fs.watch on the directory → read → parse → validate → ledger row
// → "sink call") and the naive peer (chokidar with its defaults → readFile → JSON.parse → call).
import { readFileSync, watch, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { watch as chokidarWatch } from 'chokidar';
import { benchConfig, buildConductor, scratch } from '../lib/config.ts';
import { BareLedger, intentValidator, parseAndValidate } from '../lib/bare.ts';
import { inChild } from '../lib/child.ts';
import { benchIntent, dropAtomically, fileName } from '../lib/intents.ts';
import { figure, type ScenarioResult } from '../lib/report.ts';
import { RECORDING_SINK, recordingSink } from '../lib/sinks.ts';
import { distribution, type Distribution } from '../lib/stats.ts';
import type { BenchContext } from '../lib/context.ts';

export interface LatencyArgs {
  /** Offered rate, intents per second. */
  rate: number;
  count: number;
  debounceMs: number;
}

export interface LatencyMeasured {
  latencyMs: Distribution;
  missing: number;
  /** The rate actually offered (the producer's timer may lag on a loaded machine). */
  offeredRate: number;
}

/**
 * Drops `count` files at `rate`/s on a fixed schedule (each due time computed from the start,
 * so a late timer does not slow the whole schedule), and waits for the sink calls.
 */
async function produce(handoff: string, args: LatencyArgs, calls: Map<string, number>, tag: string): Promise<LatencyMeasured> {
  const renamed = new Map<string, number>();
  const interval = 1000 / args.rate;
  const started = performance.now();
  for (let i = 0; i < args.count; i += 1) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const name = fileName(i, tag);
    const content = JSON.stringify(benchIntent(i, tag));
    // The instant the file appears under its final name: just before the rename.
    renamed.set(name, performance.now());
    dropAtomically(handoff, name, content);
  }
  const offeredRate = (args.count / (performance.now() - started)) * 1000;
  const deadline = performance.now() + 10_000 + args.debounceMs * 4;
  while (calls.size < args.count && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  const latencies: number[] = [];
  for (const [name, at] of renamed) {
    const called = calls.get(name);
    if (called !== undefined) latencies.push(called - at);
  }
  return { latencyMs: distribution(latencies), missing: args.count - latencies.length, offeredRate };
}

export async function measureConductor(args: LatencyArgs): Promise<LatencyMeasured> {
  const dir = scratch('latency');
  try {
    const calls = new Map<string, number>();
    const sink = recordingSink((file, at) => calls.set(file, at));
    const config = benchConfig({
      dataDir: dir.dir,
      concurrency: 16,
      fsSource: { debounceMs: args.debounceMs },
      sink: { [RECORDING_SINK]: {} },
      modules: { [RECORDING_SINK]: sink },
    });
    const conductor = await buildConductor(config, 'run');
    await conductor.start();
    // Warm-up outside the measured schedule (JIT, first-file paths).
    await produce(join(dir.dir, 'handoff'), { ...args, count: 50, rate: 200 }, calls, 'warmup');
    calls.clear();
    const result = await produce(join(dir.dir, 'handoff'), args, calls, 'measured');
    await conductor.stop();
    return result;
  } finally {
    dir.remove();
  }
}

/** fs.watch (inotify) → read → parse → validate → ledger row → the sink call. */
export async function measureBare(args: LatencyArgs): Promise<LatencyMeasured> {
  const dir = scratch('latency-bare');
  const handoff = join(dir.dir, 'handoff');
  mkdirSync(handoff, { recursive: true });
  const validate = intentValidator();
  const ledger = new BareLedger(join(dir.dir, 'ledger.sqlite'));
  const calls = new Map<string, number>();
  const watcher = watch(handoff, (event, name) => {
    if (event !== 'rename' || name === null || !name.startsWith('intent-') || calls.has(name)) return;
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(handoff, name));
    } catch {
      return; // the temporary name, or already gone
    }
    const { id } = parseAndValidate(validate, name, bytes);
    ledger.put(id, name, 'submitting');
    calls.set(name, performance.now());
  });
  try {
    await produce(handoff, { ...args, count: 50, rate: 200 }, calls, 'warmup');
    calls.clear();
    return await produce(handoff, args, calls, 'measured');
  } finally {
    watcher.close();
    ledger.close();
    dir.remove();
  }
}

/** The naive peer: chokidar with its defaults, readFile, JSON.parse, call. */
export async function measureNaive(args: LatencyArgs): Promise<LatencyMeasured> {
  const dir = scratch('latency-naive');
  const handoff = join(dir.dir, 'handoff');
  mkdirSync(handoff, { recursive: true });
  const calls = new Map<string, number>();
  const watcher = chokidarWatch(handoff, { ignoreInitial: true });
  watcher.on('add', (path) => {
    const name = path.slice(handoff.length + 1);
    if (!name.startsWith('intent-')) return;
    JSON.parse(readFileSync(path, 'utf8'));
    calls.set(name, performance.now());
  });
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  try {
    await produce(handoff, { ...args, count: 50, rate: 200 }, calls, 'warmup');
    calls.clear();
    return await produce(handoff, args, calls, 'measured');
  } finally {
    await watcher.close();
    dir.remove();
  }
}

export async function run(ctx: BenchContext): Promise<ScenarioResult> {
  const count = ctx.quick ? 150 : 600;
  const base: LatencyArgs = { rate: 100, count, debounceMs: 0 };
  const conductor: LatencyMeasured[] = [];
  const debounced: LatencyMeasured[] = [];
  const bare: LatencyMeasured[] = [];
  const naive: LatencyMeasured[] = [];
  const self = import.meta.url;
  for (let i = 0; i < ctx.runs; i += 1) {
    ctx.log(`(d) run ${i + 1}/${ctx.runs}`);
    conductor.push(await inChild<LatencyMeasured>(self, 'measureConductor', base, 'd-conductor'));
    bare.push(await inChild<LatencyMeasured>(self, 'measureBare', base, 'd-bare'));
    naive.push(await inChild<LatencyMeasured>(self, 'measureNaive', base, 'd-naive'));
    debounced.push(await inChild<LatencyMeasured>(self, 'measureConductor', { ...base, debounceMs: 250 }, 'd-debounce'));
  }
  const p = (list: LatencyMeasured[], key: 'p50' | 'p99' | 'max') => list.map((m) => m.latencyMs[key]);
  const missing = [...conductor, ...debounced].reduce((n, m) => n + m.missing, 0);
  return {
    id: 'd',
    title: 'latency rename → sink call at 100 intents/s offered (`conductor run` in-process)',
    status: 'ok',
    setup: { offeredRate: base.rate, intentsPerRun: count, runs: ctx.runs, concurrency: 16, sink: 'recording (bench plugin)' },
    figures: [
      figure('p50', 'conductor p50 (debounce 0)', 'ms', p(conductor, 'p50'), { op: '<=', value: 10 }),
      figure('p99', 'conductor p99 (debounce 0)', 'ms', p(conductor, 'p99'), { op: '<=', value: 50 }),
      figure('max', 'conductor max (debounce 0)', 'ms', p(conductor, 'max')),
      figure('bareP50', 'bare p50 (fs.watch → parse → validate → ledger)', 'ms', p(bare, 'p50')),
      figure('bareP99', 'bare p99', 'ms', p(bare, 'p99')),
      figure(
        'p50Ratio',
        'conductor/bare p50',
        '×',
        conductor.map((m, i) => m.latencyMs.p50 / bare[i]!.latencyMs.p50),
      ),
      figure('naiveP50', 'naive peer p50 (chokidar defaults)', 'ms', p(naive, 'p50')),
      figure('naiveP99', 'naive peer p99', 'ms', p(naive, 'p99')),
      figure('debounceP50', 'conductor p50 with debounce 250 ms', 'ms', p(debounced, 'p50')),
      figure('debounceP99', 'conductor p99 with debounce 250 ms', 'ms', p(debounced, 'p99')),
      figure(
        'debounceAdds',
        'what debounce 250 ms adds at p50',
        'ms',
        debounced.map((m, i) => m.latencyMs.p50 - conductor[i]!.latencyMs.p50),
      ),
      figure(
        'offeredRate',
        'rate actually offered',
        'intents/s',
        conductor.map((m) => m.offeredRate),
      ),
    ],
    notes: missing > 0 ? [`${missing} intent(s) never reached the sink within the wait`] : [],
  };
}
