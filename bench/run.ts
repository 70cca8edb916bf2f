// `npm run bench` — the benchmark harness (issue 7). Runs the scenarios, each figure the median
// of several runs with its comparison (bare loop, naive peer) measured in the same run, and
// prints a table (or, with --json, one JSON object with every figure).
//
//   npm run bench                        full run (about 15 minutes here)
//   npm run bench -- --quick             about a minute: fewer, smaller runs
//   npm run bench -- --json              one JSON object on stdout (progress on stderr)
//   npm run bench -- --only a,c          some scenarios only
//   npm run bench -- --runs 5            repetitions per figure
//   npm run bench -- --scale 0.1         the backlog scenario (e) at 10,000 files
//   npm run bench -- --profile DIR       --cpu-prof on every measured process; hot spots printed
//   npm run bench -- --markdown          the table as Markdown (for bench/RESULTS.md)
//   npm run bench -- --from FILE         print the table of a saved --json output (no run)
import { cpus, loadavg, totalmem, release } from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { setProfileDir } from './lib/child.ts';
import { holdScratch } from './lib/config.ts';
import { formatHotSpots } from './lib/profile.ts';
import { markdownTable, table, type ScenarioResult } from './lib/report.ts';
import type { BenchContext } from './lib/context.ts';

const SCENARIOS: Record<string, { title: string; load: () => Promise<{ run(ctx: BenchContext): Promise<ScenarioResult> }> }> = {
  a: { title: 'core', load: () => import('./scenarios/core.ts') },
  b: { title: 'files → Porch simulator', load: () => import('./scenarios/porch.ts') },
  c: { title: 'files → git sink', load: () => import('./scenarios/git.ts') },
  d: { title: 'latency', load: () => import('./scenarios/latency.ts') },
  e: { title: 'backlog', load: () => import('./scenarios/backlog.ts') },
  f: { title: 'start and idle', load: () => import('./scenarios/startup.ts') },
};

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    json: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    runs: { type: 'string' },
    scale: { type: 'string' },
    profile: { type: 'string' },
    markdown: { type: 'boolean', default: false },
    from: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

if (values.help) {
  console.log(
    'usage: npm run bench -- [--quick] [--json] [--markdown] [--only a,b,…] [--runs N] [--scale F] [--profile DIR] [--from FILE]',
  );
  console.log(
    Object.entries(SCENARIOS)
      .map(([id, s]) => `  ${id}  ${s.title}`)
      .join('\n'),
  );
  process.exit(0);
}

if (values.from !== undefined) {
  // Whatever precedes the object (npm's banner, when run without -s) is skipped.
  const text = readFileSync(values.from, 'utf8');
  const saved = JSON.parse(text.slice(text.indexOf('\n{') + 1 || 0)) as { scenarios: Record<string, ScenarioResult> };
  const list = Object.values(saved.scenarios);
  process.stdout.write(`${values.markdown ? markdownTable(list) : table(list)}\n`);
  process.exit(0);
}

const quick = values.quick;
const only = (values.only ?? Object.keys(SCENARIOS).join(','))
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
for (const id of only) {
  if (!(id in SCENARIOS)) {
    console.error(`unknown scenario "${id}" (${Object.keys(SCENARIOS).join(', ')})`);
    process.exit(2);
  }
}
const runs = values.runs === undefined ? (quick ? 1 : 3) : Number(values.runs);
const scale = values.scale === undefined ? (quick ? 0.02 : 1) : Number(values.scale);
if (!Number.isInteger(runs) || runs < 1 || !(scale > 0)) {
  console.error('--runs must be a positive integer and --scale a positive number');
  process.exit(2);
}
const profileDir = values.profile === undefined ? undefined : resolve(values.profile);
setProfileDir(profileDir);

const started = Date.now();
const log = (message: string) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}\n`);
const ctx: BenchContext = { quick, runs, scale, profile: profileDir !== undefined, log };

const machine = {
  node: process.version,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
  kernel: release(),
  loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
  date: new Date().toISOString(),
};
log(
  `node ${machine.node}, ${machine.cpus} × ${machine.cpuModel}, load average ${machine.loadAverageAtStart.join(' ')}; runs ${runs}${quick ? ' (quick)' : ''}`,
);

// Nothing a measurement wrote is deleted before the run ends: a deletion would slow the file
// creation of the measurements after it (holdScratch says why).
const held = holdScratch();
process.once('SIGINT', () => {
  held.release();
  process.exit(130);
});
const results: ScenarioResult[] = [];
for (const id of only) {
  const scenario = SCENARIOS[id]!;
  const t0 = Date.now();
  log(`(${id}) ${scenario.title}…`);
  try {
    const module = await scenario.load();
    results.push(await module.run(ctx));
  } catch (error) {
    results.push({
      id,
      title: scenario.title,
      status: `failed: ${(error as Error).message.slice(0, 500)}`,
      setup: {},
      figures: [],
      notes: [],
    });
  }
  log(`(${id}) done in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${results.at(-1)!.status}`);
}

log('removing what the measurements wrote…');
held.release();

const targets = results.flatMap((r) =>
  r.figures
    .filter((f) => f.target !== undefined)
    .map((f) => ({ scenario: r.id, figure: f.id, label: f.label, value: f.value, unit: f.unit, target: f.target!, met: f.met! })),
);
const summary = {
  machine: { ...machine, loadAverageAtEnd: loadavg().map((l) => Math.round(l * 100) / 100) },
  options: { quick, runs, scale, only, profile: profileDir ?? null },
  durationSeconds: Math.round((Date.now() - started) / 1000),
  scenarios: Object.fromEntries(results.map((r) => [r.id, r])),
  targets,
  targetsMet: targets.filter((t) => t.met).length,
  targetsTotal: targets.length,
};

if (values.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
else {
  const out = values.markdown ? markdownTable(results) : table(results);
  process.stdout.write(`\n${out}\n\n`);
  for (const r of results) for (const note of r.notes) process.stdout.write(`(${r.id}) ${note}\n`);
  process.stdout.write(
    `\ntargets met: ${summary.targetsMet}/${summary.targetsTotal} · ${summary.durationSeconds} s · load average ${machine.loadAverageAtStart.join(' ')} → ${summary.machine.loadAverageAtEnd.join(' ')}\n`,
  );
}

if (profileDir !== undefined) {
  for (const file of readdirSync(profileDir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()) {
    process.stderr.write(`\n${formatHotSpots(join(profileDir, file), 15)}\n`);
  }
}
// Measurement processes are gone; nothing else should hold the loop, but do not wait on it.
process.exit(0);
