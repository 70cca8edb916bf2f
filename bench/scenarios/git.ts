// (c) Files → git sink, through the real CLI (`conductor once`), every figure a whole process
// (start to exit). The workload: 1,000 intents over 20 namespaces, half of them new packages
// (the shipped blueprint instantiated), half edits of a package made earlier in the run. The
// bare loop (bench/lib/bare-fast-import.ts) does what git itself can do for the same work: read
// and parse each file, one commit per intent through one `git fast-import`, move the file once a
// checkpoint made its commit durable — every intent (`bare, checkpoint each`) or every 64. The
// naive peer is the shell loop an operator would write: jq, git add, git commit, mv — one file
// at a time. Then grouped commits (maxIntentsPerCommit), and two measures of scale: 5,000 new
// packages in one namespace (throughput of the last quarter against the first; beside it the
// bare loop and grouped commits on the same intents), and peak RSS with 5,000 and 50,000
// intents in one namespace under the image's memory bounds (NODE_OPTIONS, MALLOC_ARENA_MAX).
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inChild, waitFor } from '../lib/child.ts';
import { auditTimes, imageEnv, quarterRates, runCli, steadyRate } from '../lib/cli.ts';
import { benchConfig, scratch, writeConfig } from '../lib/config.ts';
import { writeBacklog } from '../lib/intents.ts';
import { figure, type ScenarioResult } from '../lib/report.ts';
import type { BareFastImportResult } from '../lib/bare-fast-import.ts';
import type { BenchContext } from '../lib/context.ts';

const BLUEPRINT = fileURLToPath(new URL('../../examples/blueprints/deployment', import.meta.url));
const BARE_MODULE = new URL('../lib/bare-fast-import.ts', import.meta.url).href;

/** Where intent i goes: `namespaces` namespaces, `packages` packages in all (later intents edit earlier ones). */
interface Shape {
  count: number;
  namespaces: number;
  packages: number;
}

/** Writes the workload's intent files into handoff/ (names sort in intent order). */
function writeWorkload(handoff: string, shape: Shape): void {
  mkdirSync(handoff, { recursive: true });
  for (let i = 0; i < shape.count; i += 1) {
    const pkg = i % shape.packages;
    const intent = {
      intent_type: 'scaling',
      namespace: `oran-${pkg % shape.namespaces}`,
      target: `nf-${Math.floor(pkg / shape.namespaces)}`,
      replicas: (i % 9) + 1,
      source: 'test',
      priority: 5,
      reason: `benchmark number ${i}`,
    };
    writeFileSync(join(handoff, `intent-${String(i).padStart(7, '0')}.json`), JSON.stringify(intent));
  }
}

function commitCount(repo: string): number {
  try {
    return Number(
      execFileSync('git', ['-C', repo, 'rev-list', '--count', 'HEAD'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim(),
    );
  } catch {
    return 0;
  }
}

interface GitMeasured {
  count: number;
  commits: number;
  /** Process start to exit. */
  wallMs: number;
  /** Intents per second between the first and last settle. */
  steadyRate: number;
  cpuMs: number;
  /** Peak RSS (MiB) of the measured process. */
  maxRssMiB: number;
  /** Throughput of the first and the last quarter of the settles (intents/s). */
  quarters: { first: number; last: number };
}

interface ConductorArgs extends Shape {
  concurrency: number;
  group?: number;
  /** Environment for the process (the image's memory bounds). */
  env?: Record<string, string>;
}

export async function measureConductor(args: ConductorArgs, usageDir: string): Promise<GitMeasured> {
  const dir = scratch('git');
  try {
    writeWorkload(join(dir.dir, 'handoff'), args);
    const sink = {
      'git-sink': { blueprint: BLUEPRINT, ...(args.group === undefined ? {} : { maxIntentsPerCommit: args.group }) },
    };
    const config = writeConfig(dir.dir, benchConfig({ dataDir: dir.dir, concurrency: args.concurrency, sink }));
    const label = args.group === undefined ? 'c-conductor' : 'c-conductor-grouped';
    const run = await runCli(['once', '--config', config], {
      label,
      usageDir,
      timeoutMs: 1_800_000,
      ...(args.env === undefined ? {} : { env: args.env }),
    });
    if (run.code !== 0) throw new Error(`conductor once exited ${String(run.code)}: ${run.stderr.slice(-1500)}`);
    const times = auditTimes(dir.dir);
    return {
      count: args.count,
      commits: commitCount(join(dir.dir, 'out')),
      wallMs: run.wallMs,
      steadyRate: steadyRate(times),
      cpuMs: run.cpuMs,
      maxRssMiB: Math.max(run.maxRssMiB, run.sampledHwmMiB),
      quarters: quarterRates(times),
    };
  } finally {
    dir.remove();
  }
}

/** The bare fast-import loop in its own process, timed from its start to its exit. */
export async function measureBare(args: Shape & { checkpointEvery: number }): Promise<GitMeasured> {
  const dir = scratch('git-bare');
  try {
    writeWorkload(join(dir.dir, 'handoff'), args);
    const started = performance.now();
    const result = await inChild<BareFastImportResult>(
      BARE_MODULE,
      'bareFastImport',
      { dir: dir.dir, checkpointEvery: args.checkpointEvery },
      'c-bare',
    );
    const wallMs = performance.now() - started;
    const commits = commitCount(join(dir.dir, 'out'));
    return {
      count: result.count,
      commits,
      wallMs,
      steadyRate: (result.count / result.wallMs) * 1000,
      cpuMs: result.cpuMs,
      maxRssMiB: Number.NaN,
      quarters: quarterRates(result.settledAt),
    };
  } finally {
    dir.remove();
  }
}

/** What an operator would write: a shell loop, one file at a time, jq + git add + git commit + mv. */
const NAIVE_SCRIPT = String.raw`
set -eu
cd "$1"
mkdir -p processed out
git -C out init --quiet --initial-branch main
for f in handoff/intent-*.json; do
  ns=$(jq -r .namespace "$f"); target=$(jq -r .target "$f"); replicas=$(jq -r .replicas "$f")
  mkdir -p "out/$ns/$target"
  printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n  replicas: %s\n' "$target" "$ns" "$replicas" > "out/$ns/$target/deployment.yaml"
  git -C out add "$ns/$target"
  git -C out -c user.name=naive -c user.email=naive@localhost commit --quiet --allow-empty -m "scale $ns/$target to $replicas" -m "Intent file: $(basename "$f")"
  mv "$f" processed/
done
`;

export async function measureNaive(args: { count: number }): Promise<GitMeasured> {
  const dir = scratch('git-naive');
  try {
    writeBacklog(join(dir.dir, 'handoff'), args.count, 'git');
    const script = join(dir.dir, 'naive.sh');
    writeFileSync(script, NAIVE_SCRIPT);
    const started = performance.now();
    const { code, stderr } = await waitFor(spawn('bash', [script, dir.dir], { stdio: ['ignore', 'ignore', 'pipe'] }), 600_000);
    const wallMs = performance.now() - started;
    if (code !== 0) throw new Error(`naive git loop exited ${String(code)}: ${stderr.slice(-1000)}`);
    const commits = commitCount(join(dir.dir, 'out'));
    return {
      count: args.count,
      commits,
      wallMs,
      steadyRate: (args.count / wallMs) * 1000,
      cpuMs: Number.NaN,
      maxRssMiB: Number.NaN,
      quarters: { first: Number.NaN, last: Number.NaN },
    };
  } finally {
    dir.remove();
  }
}

/** The sizes of one run: the main workload, the one-namespace scale runs (the 50,000 one follows --scale). */
function sizes(ctx: BenchContext) {
  const count = ctx.quick ? 200 : 1_000;
  const main: Shape = { count, namespaces: 20, packages: count / 2 };
  const large = Math.max(10_000, Math.round(50_000 * Math.min(1, ctx.scale)));
  return {
    main,
    // Grouped as the option advises: concurrency twice the group, so one group forms while one is written.
    grouped: { ...main, concurrency: 128, group: 64 },
    // 5,000 new packages in one namespace, one commit each: the namespace's tree grows all along.
    oneNamespace: {
      count: ctx.quick ? 1_000 : 5_000,
      namespaces: 1,
      packages: ctx.quick ? 1_000 : 5_000,
      concurrency: 16,
    },
    // RSS: 5,000 packages in one namespace, then edited over and over; grouped, so the long run stays practical.
    rss: [5_000, large].map((n) => ({
      count: n,
      namespaces: 1,
      packages: 5_000,
      concurrency: 64,
      group: 64,
      env: imageEnv(),
    })),
    naiveCount: ctx.quick ? 12 : 50,
  };
}

/** Runs each step `runs` times, interleaved (odd rounds in reverse order), so load drifts hit every measure alike. */
async function interleaved(ctx: BenchContext, steps: (() => Promise<unknown>)[]): Promise<void> {
  for (let i = 0; i < ctx.runs; i += 1) {
    ctx.log(`(c) run ${i + 1}/${ctx.runs}`);
    for (const step of i % 2 === 0 ? steps : [...steps].reverse()) await step();
  }
}

export async function run(ctx: BenchContext): Promise<ScenarioResult> {
  const size = sizes(ctx);
  const usage = scratch('git-usage');
  const m: Record<
    'one' | 'one64' | 'bare1' | 'bare64' | 'naive' | 'grouped' | 'empty' | 'ns' | 'bareNs' | 'groupedNs' | 'rssSmall' | 'rssLarge',
    GitMeasured[]
  > = {
    one: [],
    one64: [],
    bare1: [],
    bare64: [],
    naive: [],
    grouped: [],
    empty: [],
    ns: [],
    bareNs: [],
    groupedNs: [],
    rssSmall: [],
    rssLarge: [],
  };
  try {
    await interleaved(ctx, [
      async () => m.one.push(await measureConductor({ ...size.main, concurrency: 4 }, usage.dir)),
      async () => m.bare1.push(await measureBare({ ...size.main, checkpointEvery: 1 })),
      async () => m.one64.push(await measureConductor({ ...size.main, concurrency: 64 }, usage.dir)),
      async () => m.bare64.push(await measureBare({ ...size.main, checkpointEvery: 64 })),
      async () => m.grouped.push(await measureConductor(size.grouped, usage.dir)),
      // The same process with nothing to do: what no grouping can take away (start, stop, exit).
      async () => m.empty.push(await measureConductor({ ...size.main, count: 0, packages: 0, concurrency: 4 }, usage.dir)),
      async () => m.naive.push(await measureNaive({ count: size.naiveCount })),
      async () => m.ns.push(await measureConductor(size.oneNamespace, usage.dir)),
      // What git itself does with the same namespace: every commit writes the namespace's tree again.
      async () => m.bareNs.push(await measureBare({ ...size.oneNamespace, checkpointEvery: size.oneNamespace.concurrency })),
      async () => m.groupedNs.push(await measureConductor({ ...size.oneNamespace, concurrency: 128, group: 64 }, usage.dir)),
    ]);
    await interleaved(ctx, [
      async () => m.rssSmall.push(await measureConductor(size.rss[0]!, usage.dir)),
      async () => m.rssLarge.push(await measureConductor(size.rss[1]!, usage.dir)),
    ]);
  } finally {
    usage.remove();
  }
  return report(ctx, size, m);
}

function report(ctx: BenchContext, size: ReturnType<typeof sizes>, m: Record<string, GitMeasured[]>): ScenarioResult {
  const rate = (x: GitMeasured) => (x.count / x.wallMs) * 1000;
  const ratio = (a: GitMeasured[], b: GitMeasured[]) => a.map((x, i) => x.wallMs / b[i]!.wallMs);
  const commitsOf = (key: string) => m[key]!.map((x) => x.commits).join(', ');
  const lost = [...m['one']!, ...m['one64']!].filter((x) => x.commits !== x.count).length;
  return {
    id: 'c',
    title: 'files → git sink (real CLI, `conductor once`, whole processes)',
    status: 'ok',
    setup: {
      intents: size.main.count,
      namespaces: size.main.namespaces,
      packages: size.main.packages,
      naiveIntents: size.naiveCount,
      runs: ctx.runs,
      debounceMs: 0,
    },
    figures: [...speedFigures(m, rate, ratio), ...groupedFigures(size, m, rate, ratio), ...scaleFigures(size, m)],
    notes: [
      ...(lost > 0 ? [`${lost} conductor run(s) made fewer commits than intents`] : []),
      `commits per run: conductor ${commitsOf('one')}; bare ${commitsOf('bare1')}; grouped ${commitsOf('grouped')}`,
    ],
  };
}

type Rate = (x: GitMeasured) => number;
type Ratio = (a: GitMeasured[], b: GitMeasured[]) => number[];

/** One commit per intent against the bare fast-import loop and the naive shell loop. */
function speedFigures(m: Record<string, GitMeasured[]>, rate: Rate, ratio: Ratio) {
  return [
    figure('throughput', 'conductor, one commit per intent, concurrency 4 (start to exit)', 'intents/s', m['one']!.map(rate), {
      op: '>=',
      value: 200,
    }),
    figure(
      'steadyThroughput',
      'the same, first→last settle',
      'intents/s',
      m['one']!.map((x) => x.steadyRate),
    ),
    figure('throughput64', 'conductor, one commit per intent, concurrency 64', 'intents/s', m['one64']!.map(rate)),
    figure('bareThroughput', 'bare fast-import loop, checkpoint each intent', 'intents/s', m['bare1']!.map(rate)),
    figure('bare64Throughput', 'bare fast-import loop, checkpoint every 64', 'intents/s', m['bare64']!.map(rate)),
    figure('ratio', 'conductor (c=4) / bare (checkpoint each), whole-process time', '×', ratio(m['one']!, m['bare1']!), {
      op: '<=',
      value: 4,
    }),
    figure('ratio64', 'conductor (c=64) / bare (checkpoint every 64), whole-process time', '×', ratio(m['one64']!, m['bare64']!), {
      op: '<=',
      value: 4,
    }),
    figure(
      'naiveThroughput',
      'naive peer (shell: jq + git add/commit)',
      'intents/s',
      m['naive']!.map((x) => x.steadyRate),
    ),
    figure(
      'cpuPerIntent',
      'conductor CPU per intent (whole process, c=4)',
      'ms',
      m['one']!.map((x) => x.cpuMs / x.count),
    ),
  ];
}

/** Grouped commits against one commit per intent. */
function groupedFigures(size: ReturnType<typeof sizes>, m: Record<string, GitMeasured[]>, rate: Rate, ratio: Ratio) {
  return [
    figure(
      'groupedThroughput',
      `grouped commits (maxIntentsPerCommit ${size.grouped.group}, concurrency ${size.grouped.concurrency})`,
      'intents/s',
      m['grouped']!.map(rate),
    ),
    figure('groupedGain', 'grouped / one commit per intent (c=4), whole-process time', '×', ratio(m['one']!, m['grouped']!), {
      op: '>=',
      value: 2.5,
    }),
    figure('groupedGain64', 'grouped / one commit per intent (c=64), whole-process time', '×', ratio(m['one64']!, m['grouped']!)),
    figure(
      'emptyOnce',
      'conductor `once` with nothing to do (start to exit): the fixed cost of a process',
      'ms',
      m['empty']!.map((x) => x.wallMs),
    ),
    figure(
      'groupingCeiling',
      'the most any grouping could gain at c=4: one commit per intent / nothing to do, whole-process time',
      '×',
      ratio(m['one']!, m['empty']!),
    ),
    figure(
      'groupedIntentsPerCommit',
      'grouped: intents per commit',
      'intents',
      m['grouped']!.map((x) => x.count / x.commits),
    ),
  ];
}

/** Scale: throughput by quarter with 5,000 packages in one namespace, and peak RSS. */
function scaleFigures(size: ReturnType<typeof sizes>, m: Record<string, GitMeasured[]>) {
  return [
    figure(
      'oneNamespaceFirstQuarter',
      `${size.oneNamespace.count} new packages in one namespace: first quarter`,
      'intents/s',
      m['ns']!.map((x) => x.quarters.first),
    ),
    figure(
      'oneNamespaceLastQuarter',
      'the same: last quarter',
      'intents/s',
      m['ns']!.map((x) => x.quarters.last),
    ),
    figure(
      'oneNamespaceQuarterRatio',
      'the same: last / first quarter',
      '×',
      m['ns']!.map((x) => x.quarters.last / x.quarters.first),
      { op: '>=', value: 0.8 },
    ),
    figure(
      'bareOneNamespaceQuarterRatio',
      'bare fast-import loop, the same intents (a checkpoint every 16): last / first quarter',
      '×',
      m['bareNs']!.map((x) => x.quarters.last / x.quarters.first),
    ),
    figure(
      'groupedOneNamespaceQuarterRatio',
      'the same intents, grouped commits (64, concurrency 128): last / first quarter',
      '×',
      m['groupedNs']!.map((x) => x.quarters.last / x.quarters.first),
    ),
    figure(
      'groupedOneNamespaceThroughput',
      'the same intents, grouped commits: throughput (start to exit)',
      'intents/s',
      m['groupedNs']!.map((x) => (x.count / x.wallMs) * 1000),
    ),
    figure(
      'rssSmall',
      `peak RSS, ${size.rss[0]!.count} intents in one namespace (the image's memory bounds)`,
      'MiB',
      m['rssSmall']!.map((x) => x.maxRssMiB),
    ),
    figure(
      'rssLarge',
      `peak RSS, ${size.rss[1]!.count} intents in one namespace`,
      'MiB',
      m['rssLarge']!.map((x) => x.maxRssMiB),
    ),
    figure(
      'rssRatio',
      'peak RSS large / small',
      '×',
      m['rssLarge']!.map((x, i) => x.maxRssMiB / m['rssSmall']![i]!.maxRssMiB),
      { op: '<=', value: 1.2 },
    ),
  ];
}
