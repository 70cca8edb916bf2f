// (c) Files → git sink, one commit per intent, through the real CLI (`conductor once`). The bare
// loop lists handoff/, reads, parses, validates, keeps the ledger rows and audit line of bare.ts,
// and commits with the same object-writing approach (plugins/git-sink/objects.ts: loose objects,
// tree rebuilt from the package up, branch moved by rename), then moves the file. The naive peer
// is the shell loop an operator would write: jq, git add, git commit, mv — one file at a time.
// A last measurement runs the same CLI with grouped commits (maxIntentsPerCommit, the git sink's
// option for when one commit per intent is the limit).
import { execFileSync, spawn } from 'node:child_process';
import { promises as fs, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyIntentToPackage, renderPackage, type Intent } from '../../core/index.ts';
import { encodeCommit, encodeTree, writeObject, type TreeEntry } from '../../plugins/git-sink/objects.ts';
import { BareAudit, BareLedger, intentValidator, parseAndValidate, pool } from '../lib/bare.ts';
import { inChild, waitFor } from '../lib/child.ts';
import { auditTimes, runCli, steadyRate } from '../lib/cli.ts';
import { benchConfig, scratch, writeConfig } from '../lib/config.ts';
import { writeBacklog } from '../lib/intents.ts';
import { figure, type ScenarioResult } from '../lib/report.ts';
import type { BenchContext } from '../lib/context.ts';

const IDENTITY = { name: 'Conductor', email: 'conductor@localhost' };

function commitCount(repo: string): number {
  try {
    return Number(execFileSync('git', ['-C', repo, 'rev-list', '--count', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    return 0;
  }
}

interface GitMeasured {
  count: number;
  commits: number;
  /** Process start to exit (CLI) or first file to last (bare / naive). */
  wallMs: number;
  /** Intents per second between the first and last settle. */
  steadyRate: number;
  cpuMs: number;
}

export async function measureConductor(args: { count: number; concurrency: number; group?: number }, usageDir: string): Promise<GitMeasured> {
  const dir = scratch('git');
  try {
    writeBacklog(join(dir.dir, 'handoff'), args.count, 'git');
    const sink = { 'git-sink': args.group === undefined ? {} : { maxIntentsPerCommit: args.group } };
    const config = writeConfig(dir.dir, benchConfig({ dataDir: dir.dir, concurrency: args.concurrency, sink }));
    const run = await runCli(['once', '--config', config], { label: args.group === undefined ? 'c-conductor' : 'c-conductor-grouped', usageDir });
    if (run.code !== 0) throw new Error(`conductor once exited ${String(run.code)}: ${run.stderr.slice(-1500)}`);
    const times = auditTimes(dir.dir);
    return { count: args.count, commits: commitCount(join(dir.dir, 'out')), wallMs: run.wallMs, steadyRate: steadyRate(times), cpuMs: run.cpuMs };
  } finally {
    dir.remove();
  }
}

/** The bare loop, run in its own process (inChild). */
export async function measureBare(args: { count: number; concurrency: number }): Promise<GitMeasured> {
  const dir = scratch('git-bare');
  try {
    const handoff = join(dir.dir, 'handoff');
    const processed = join(dir.dir, 'processed');
    const repo = join(dir.dir, 'out');
    writeBacklog(handoff, args.count, 'git');
    mkdirSync(processed, { recursive: true });
    mkdirSync(repo, { recursive: true });
    execFileSync('git', ['init', '--quiet', '--initial-branch', 'main'], { cwd: repo });
    const gitDir = join(repo, '.git');
    const headRef = join(gitDir, 'refs', 'heads', 'main');
    const validate = intentValidator();
    const ledger = new BareLedger(join(dir.dir, 'ledger.sqlite'));
    const audit = new BareAudit(join(dir.dir, 'audit.log'));
    // The repository as this process last wrote it: namespace → target → package tree / files.
    const packages = new Map<string, Record<string, string>>();
    const targetTrees = new Map<string, Map<string, string>>();
    let head: string | undefined;
    let queue: Promise<unknown> = Promise.resolve();
    const serial = <T>(work: () => Promise<T>): Promise<T> => {
      const run = queue.then(work, work);
      queue = run.catch(() => undefined);
      return run;
    };
    const commit = async (intent: Intent, id: string, file: string): Promise<string> => {
      const key = `${intent.namespace}/${intent.target}`;
      const existing = packages.get(key);
      const files = existing === undefined ? renderPackage(intent) : applyIntentToPackage(existing, intent, id).files;
      const leaf: TreeEntry[] = [];
      for (const [name, content] of Object.entries(files)) leaf.push({ mode: '100644', path: name, oid: await writeObject(gitDir, 'blob', Buffer.from(content)) });
      const packageTree = await writeObject(gitDir, 'tree', encodeTree(leaf));
      const namespace = targetTrees.get(intent.namespace) ?? new Map<string, string>();
      namespace.set(intent.target, packageTree);
      targetTrees.set(intent.namespace, namespace);
      const namespaceTree = await writeObject(gitDir, 'tree', encodeTree([...namespace].map(([path, oid]) => ({ mode: '040000', path, oid }))));
      const rootEntries: TreeEntry[] = [...targetTrees.keys()].map((ns) => ({ mode: '040000', path: ns, oid: ns === intent.namespace ? namespaceTree : '' }));
      for (const entry of rootEntries) {
        if (entry.oid === '') entry.oid = await writeObject(gitDir, 'tree', encodeTree([...targetTrees.get(entry.path)!].map(([path, oid]) => ({ mode: '040000', path, oid }))));
      }
      const root = await writeObject(gitDir, 'tree', encodeTree(rootEntries));
      const message = `${intent.intent_type} ${key} to ${intent.replicas} replicas\n\nIntent file: ${file}\n\nConductor-Intent-Id: ${id}\n`;
      const oid = await writeObject(gitDir, 'commit', encodeCommit(root, head === undefined ? [] : [head], { ...IDENTITY, time: Math.floor(Date.now() / 1000) }, message));
      await fs.writeFile(`${headRef}.tmp`, `${oid}\n`);
      await fs.rename(`${headRef}.tmp`, headRef);
      head = oid;
      const packageDir = join(repo, intent.namespace, intent.target);
      await fs.mkdir(packageDir, { recursive: true });
      for (const [name, content] of Object.entries(files)) if (existing?.[name] !== content) await fs.writeFile(join(packageDir, name), content);
      packages.set(key, files);
      return oid;
    };
    const cpu = process.cpuUsage();
    const started = performance.now();
    const names = readdirSync(handoff).filter((n) => n.startsWith('intent-') && n.endsWith('.json')).sort();
    await pool(names, args.concurrency, async (name) => {
      const bytes = await fs.readFile(join(handoff, name));
      const { intent, id } = parseAndValidate(validate, name, bytes);
      ledger.put(id, name, 'submitting');
      const oid = await serial(() => commit(intent as unknown as Intent, id, name));
      ledger.put(id, name, 'succeeded', oid);
      audit.write({ intentId: id, file: name, outcome: 'succeeded', receipt: oid });
      await fs.rename(join(handoff, name), join(processed, name));
    });
    const wallMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    ledger.close();
    audit.close();
    return { count: args.count, commits: commitCount(repo), wallMs, steadyRate: (args.count / wallMs) * 1000, cpuMs: (used.user + used.system) / 1000 };
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
    return { count: args.count, commits: commitCount(join(dir.dir, 'out')), wallMs, steadyRate: (args.count / wallMs) * 1000, cpuMs: Number.NaN };
  } finally {
    dir.remove();
  }
}

export async function run(ctx: BenchContext): Promise<ScenarioResult> {
  const args = { count: ctx.quick ? 100 : 600, concurrency: 4 };
  const groupedArgs = { count: ctx.quick ? 400 : 3000, concurrency: 32, group: 32 };
  const naiveCount = ctx.quick ? 12 : 50;
  const usage = scratch('git-usage');
  const conductor: GitMeasured[] = [];
  const bare: GitMeasured[] = [];
  const naive: GitMeasured[] = [];
  const grouped: GitMeasured[] = [];
  try {
    for (let i = 0; i < ctx.runs; i += 1) {
      ctx.log(`(c) run ${i + 1}/${ctx.runs}`);
      const steps = [
        async () => conductor.push(await measureConductor(args, usage.dir)),
        async () => bare.push(await inChild<GitMeasured>(import.meta.url, 'measureBare', args, 'c-bare')),
        async () => naive.push(await measureNaive({ count: naiveCount })),
        async () => grouped.push(await measureConductor(groupedArgs, usage.dir)),
      ];
      for (const step of i % 2 === 0 ? steps : [...steps].reverse()) await step();
    }
  } finally {
    usage.remove();
  }
  const lost = conductor.filter((m) => m.commits !== m.count).length;
  const missing = grouped.filter((m) => m.commits < 1).length;
  return {
    id: 'c',
    title: 'files → git sink, one commit per intent (real CLI, `conductor once`)',
    status: 'ok',
    setup: { intents: args.count, concurrency: args.concurrency, naiveIntents: naiveCount, groupedIntents: groupedArgs.count, runs: ctx.runs, debounceMs: 0 },
    figures: [
      figure('throughput', 'conductor throughput (first→last commit)', 'intents/s', conductor.map((m) => m.steadyRate), { op: '>=', value: 200 }),
      figure('throughputWithStartup', 'conductor throughput incl. start and exit', 'intents/s', conductor.map((m) => (m.count / m.wallMs) * 1000)),
      figure('bareThroughput', 'bare loop throughput', 'intents/s', bare.map((m) => m.steadyRate)),
      figure('ratio', 'conductor/bare time per intent', '×', conductor.map((m, i) => bare[i]!.steadyRate / m.steadyRate)),
      figure('naiveThroughput', 'naive peer (shell: jq + git add/commit)', 'intents/s', naive.map((m) => m.steadyRate)),
      figure('cpuPerIntent', 'conductor CPU per intent (whole process)', 'ms', conductor.map((m) => m.cpuMs / m.count)),
      figure('bareCpuPerIntent', 'bare CPU per intent', 'ms', bare.map((m) => m.cpuMs / m.count)),
      figure('groupedThroughput', `grouped commits (maxIntentsPerCommit ${groupedArgs.group}, concurrency ${groupedArgs.concurrency})`, 'intents/s', grouped.map((m) => m.steadyRate)),
      figure('groupedIntentsPerCommit', 'grouped: intents per commit', 'intents', grouped.map((m) => m.count / m.commits)),
    ],
    notes: [
      ...(lost > 0 ? [`${lost} conductor run(s) made fewer commits than intents`] : []),
      ...(missing > 0 ? [`${missing} grouped run(s) made no commit`] : []),
      `commits per run: conductor ${conductor.map((m) => m.commits).join(', ')}; bare ${bare.map((m) => m.commits).join(', ')}`,
    ],
  };
}
