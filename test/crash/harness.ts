// Crash-point exploration (after ALICE, OSDI '14): runs the real CLI (`conductor once`) with a
// crash injected at one named durable step (CONDUCTOR_CRASH_AT=<point>:<nth>, see
// core/delivery/crash-points.ts), restarts it without, and checks what the delivery promise
// says must then hold. Each exploration starts from a fresh data directory (and, for Porch, a
// fresh simulator), so explorations are independent and can be replayed one by one.
//
// The invariants (each a line in `violations`, never a weaker check to make a point pass):
//   effect      each intent's content takes effect exactly once, or it is refused:
//               git   — exactly one commit per intent id trailer, whose package holds that
//                       intent's replicas; none for an intent refused or superseded
//               porch — exactly one Published revision per intent (its workspace), holding
//                       its replicas; none for a refused or superseded one; no stray revision
//   newest      per target, the sink ends holding the newest intent's replicas
//   repository  the working tree equals HEAD (`git status --porcelain` empty) and
//               `git fsck --strict` is clean (git workload)
//   handoff     nothing left in handoff/
//   temporary   no temporary file left anywhere in the data directory (`.tmp-*`, `*.tmp-*`,
//               a stale git index.lock)
//   status      each intent file is in exactly one place (processed/ or failed/, one copy), and
//               its status/ file names the outcome that place means; the expected outcome
//   ledger      the ledger records each delivered intent as succeeded
//   restart     the restart exits 0, or 1 when it settled the refused intent itself (never 3: work left)
//   audit       every intent the crashed run acknowledged (its file out of handoff/) has its
//               outcome line in the audit log: a line is written before its intent is let go
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import YAML from 'yaml';
import { type CrashPointName, type Intent } from '../../core/index.ts';
import { CRASH_AT_VARIABLE, CRASH_POINTS } from '../../core/delivery/crash-points.ts';
import { intentIdOf } from '../../core/intent/identity.ts';
import { runCli, type CliResult } from '../support/cli.ts';
import { dropIntent, fastConfig, makeDataDir, scaling, writeJsonConfig } from '../support/data-dir.ts';
import { gitLog } from '../support/git.ts';
import { startPorchSim, type PorchSim } from '../support/porch-sim/index.ts';

export type WorkloadName = 'git' | 'porch';
export const WORKLOADS: readonly WorkloadName[] = ['git', 'porch'];
export { CRASH_POINTS };
export type { CrashPointName };

const PORCH_NAMESPACE = 'porch-demo';
const PORCH_REPOSITORY = 'deployments';
/** The workspace the simulator gives a seeded revision 1. */
const SEEDED_WORKSPACE = 'v1';

/** What an intent file must end as, whatever the crash. */
type Expected = 'succeeded' | 'duplicate' | 'conflict' | 'succeeded-or-superseded';

interface WorkloadIntent {
  file: string;
  intent: Intent;
  /** Seconds before now: the producer's order (older first), which is also the order in handoff/. */
  ageS: number;
  expected: Expected;
}

/** The targets of the workload: each an existing package (as in Nephio, Conductor edits packages people made). */
const TARGETS = ['web', 'db', 'cache'] as const;
const NAMESPACE = 'oran-odu';

/** An existing package: a Kptfile and a Deployment with an image, at 1 replica. */
function existingPackage(target: string): Record<string, string> {
  return {
    Kptfile: `apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: ${target}\ninfo:\n  description: ${target}, an existing package\n`,
    'deployment.yaml': [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      `  name: ${target}`,
      `  namespace: ${NAMESPACE}`,
      'spec:',
      '  replicas: 1',
      '  selector:',
      '    matchLabels:',
      `      app: ${target}`,
      '  template:',
      '    metadata:',
      '      labels:',
      `        app: ${target}`,
      '    spec:',
      '      containers:',
      `        - name: ${target}`,
      `          image: registry.example/${target}:1.0`,
      '',
    ].join('\n'),
  };
}

/** The git sink's repository with the existing packages committed (no intent trailer). */
function seedRepository(root: string): void {
  const repo = join(root, 'out');
  mkdirSync(repo, { recursive: true });
  const run = (...args: string[]) =>
    execFileSync('git', ['-C', repo, '-c', 'user.name=Operator', '-c', 'user.email=ops@example.org', ...args], { stdio: 'ignore' });
  run('init', '-q', '-b', 'main');
  for (const target of TARGETS) {
    mkdirSync(join(repo, NAMESPACE, target), { recursive: true });
    for (const [name, text] of Object.entries(existingPackage(target))) writeFileSync(join(repo, NAMESPACE, target, name), text);
  }
  run('add', '-A');
  run('commit', '-q', '-m', 'the packages as the operators made them');
}

/**
 * The workload, on existing packages: two intents for one target (the newer must win), a
 * correlation_id reused with other content (refused as a conflict), a correlation_id re-sent with
 * the same content (a duplicate). Small, so that one exploration is two short CLI runs, yet every
 * path of the delivery is taken: commit, reuse, refusal with its error record, duplicate.
 */
export function workloadIntents(): WorkloadIntent[] {
  return [
    // First in line, and its target's only effect: a crash at the first hit of a sink's point leaves
    // its damage where no later intent for the same package repairs it by chance.
    { file: 'intent-db-1.json', intent: scaling('db', 2, { correlation_id: 'corr-db' }), ageS: 60, expected: 'succeeded' },
    { file: 'intent-web-1.json', intent: scaling('web', 3), ageS: 50, expected: 'succeeded-or-superseded' },
    { file: 'intent-web-2.json', intent: scaling('web', 5), ageS: 30, expected: 'succeeded' },
    { file: 'intent-db-2.json', intent: scaling('db', 6, { correlation_id: 'corr-db' }), ageS: 20, expected: 'conflict' },
    { file: 'intent-cache-1.json', intent: scaling('cache', 4, { correlation_id: 'corr-cache' }), ageS: 15, expected: 'succeeded' },
    { file: 'intent-cache-2.json', intent: scaling('cache', 4, { correlation_id: 'corr-cache' }), ageS: 10, expected: 'duplicate' },
  ];
}

export interface Exploration {
  workload: WorkloadName;
  point: CrashPointName;
  nth: number;
  /** True when the crashed run died at the point; false when it never got there (ran to its end). */
  reached: boolean;
  violations: string[];
  /** Facts worth a look that the delivery promise does not cover (not violations). */
  notes: string[];
}

interface Setup {
  root: string;
  config: string;
  sim: PorchSim | undefined;
  intents: WorkloadIntent[];
  cleanup(): Promise<void>;
}

async function setUp(workload: WorkloadName): Promise<Setup> {
  const dir = makeDataDir();
  const intents = workloadIntents();
  for (const { file, intent, ageS } of intents) dropIntent(dir.handoff, file, intent, { atomic: true, ageMs: ageS * 1_000 });
  let sim: PorchSim | undefined;
  let config: Record<string, unknown>;
  if (workload === 'git') {
    seedRepository(dir.root);
    config = fastConfig(dir.root);
  } else {
    sim = await startPorchSim({
      namespace: PORCH_NAMESPACE,
      repositories: [{ name: PORCH_REPOSITORY }],
      packages: TARGETS.map((target) => ({ repository: PORCH_REPOSITORY, packageName: target, resources: existingPackage(target) })),
    });
    config = {
      dataDir: dir.root,
      logLevel: 'warn',
      retry: { maxAttempts: 0, initialDelayMs: 5, maxDelayMs: 100, budgetMs: 30_000 },
      plugins: {
        'fs-source': { debounceMs: 0 },
        'schema-validate': {},
        sanitize: {},
        'porch-sink': { server: sim.url, namespace: PORCH_NAMESPACE, repository: PORCH_REPOSITORY, approve: true },
        'audit-log': {},
      },
    };
  }
  return {
    root: dir.root,
    config: writeJsonConfig(dir.root, config),
    sim,
    intents,
    cleanup: async () => {
      await sim?.close();
      dir.cleanup();
    },
  };
}

function once(config: string, crashAt: string): Promise<CliResult> {
  // An empty value is "no crash": the restart must not inherit the variable from anywhere.
  return runCli(['once', '--config', config], { env: { [CRASH_AT_VARIABLE]: crashAt } });
}

/** One exploration: crash at `point` (its nth hit), restart, check every invariant. */
export async function explore(workload: WorkloadName, point: CrashPointName, nth = 1): Promise<Exploration> {
  const setup = await setUp(workload);
  const result: Exploration = { workload, point, nth, reached: false, violations: [], notes: [] };
  try {
    const crashed = await once(setup.config, `${point}:${nth}`);
    result.reached = crashed.signal === 'SIGKILL' && crashed.stderr.includes(`crash point ${point}:${nth} reached`);
    if (!result.reached && crashed.signal !== null) {
      result.violations.push(`crashed run: ended by ${crashed.signal} before the point: ${tail(crashed.stderr)}`);
    }
    result.violations.push(...checkAudit(setup));
    const restart = await once(setup.config, '');
    // 1 when the refused intent was settled by the restart itself (exit 1: an intent failed).
    if (restart.code !== 0 && restart.code !== 1) {
      result.violations.push(`restart: exit ${restart.code ?? restart.signal}, expected 0 or 1: ${tail(restart.stderr || restart.stdout)}`);
    }
    result.violations.push(...checkFiles(setup), ...checkLedger(setup, result.notes));
    result.violations.push(...(workload === 'git' ? checkGit(setup) : checkPorch(setup)));
  } finally {
    await setup.cleanup();
  }
  return result;
}

function tail(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ').slice(0, 600);
}

// ---------- what each intent ended as ----------

interface Ended {
  file: string;
  intentId: string;
  intent: Intent;
  expected: Expected;
  /** The status file's `status`, or undefined when there is none. */
  status: string | undefined;
  code: string | undefined;
}

function statusOf(root: string, file: string): { status?: string; code?: string } | undefined {
  const path = join(root, 'status', file.replace(/\.json$/, '.status.json'));
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as { status?: string; code?: string };
  } catch {
    return { status: '<unreadable>' };
  }
}

function ended(setup: Setup): Ended[] {
  return setup.intents.map(({ file, intent, expected }) => {
    const status = statusOf(setup.root, file);
    return {
      file,
      intent,
      expected,
      intentId: intentIdOf(file, intent as unknown as Record<string, unknown>),
      status: status?.status,
      code: status?.code,
    };
  });
}

/** Effective: its content is the effect the sink must hold exactly once. */
const effective = (e: Ended) => e.status === 'succeeded';

function matchesExpected(e: Ended): boolean {
  switch (e.expected) {
    case 'succeeded':
      return e.status === 'succeeded';
    case 'duplicate':
      return e.status === 'duplicate';
    case 'conflict':
      return e.status === 'failed' && e.code === 'CND_ERR_INTENT_CONFLICT';
    case 'succeeded-or-superseded':
      return e.status === 'succeeded' || e.status === 'superseded';
  }
}

/** The newest intent per target (producer's order); its replicas are what the sink must end with. */
function newestPerTarget(setup: Setup): Map<string, WorkloadIntent> {
  const newest = new Map<string, WorkloadIntent>();
  for (const w of setup.intents) {
    if (w.expected === 'conflict' || w.expected === 'duplicate') continue;
    const known = newest.get(w.intent.target);
    if (known === undefined || w.ageS < known.ageS) newest.set(w.intent.target, w);
  }
  return newest;
}

// ---------- the data directory ----------

function entries(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** Files the run acknowledged (moved out of handoff/) without an outcome line in the audit log. */
function checkAudit(setup: Setup): string[] {
  const log = join(setup.root, 'audit', 'audit.log');
  const logged = new Set<string>();
  if (existsSync(log)) {
    for (const line of readFileSync(log, 'utf8').split('\n')) {
      try {
        const record = JSON.parse(line) as { event?: string; file?: string };
        if (record.event === 'outcome' && typeof record.file === 'string') logged.add(record.file);
      } catch {
        // An empty or cut last line names no outcome.
      }
    }
  }
  const handoff = new Set(entries(join(setup.root, 'handoff')));
  return setup.intents
    .filter(({ file }) => !handoff.has(file) && !logged.has(file))
    .map(({ file }) => `audit: ${file} left handoff/ in the crashed run without its outcome line in the audit log`);
}

function checkFiles(setup: Setup): string[] {
  const violations: string[] = [];
  const { root } = setup;
  const handoff = entries(join(root, 'handoff'));
  if (handoff.length > 0) violations.push(`handoff: left ${handoff.join(', ')}`);
  const processed = entries(join(root, 'processed'));
  const failed = entries(join(root, 'failed')).filter((n) => !n.endsWith('.error.json'));
  const errorRecords = entries(join(root, 'failed')).filter((n) => n.endsWith('.error.json'));
  const stemOf = (name: string) => name.replace(/(\.\d+)?\.json$/, '');
  for (const e of ended(setup)) {
    const stem = e.file.replace(/\.json$/, '');
    const inProcessed = processed.filter((n) => stemOf(n) === stem);
    const inFailed = failed.filter((n) => stemOf(n) === stem);
    const copies = inProcessed.length + inFailed.length;
    if (copies !== 1)
      violations.push(
        `status: ${e.file} is in ${copies} places (processed: ${inProcessed.join(', ') || '-'}; failed: ${inFailed.join(', ') || '-'})`,
      );
    if (e.status === undefined) {
      violations.push(`status: ${e.file} has no status file`);
      continue;
    }
    if (!matchesExpected(e)) violations.push(`status: ${e.file} ended ${e.status}${e.code ? ` (${e.code})` : ''}, expected ${e.expected}`);
    const shouldFail = e.status === 'failed';
    if (shouldFail && inFailed.length === 0) violations.push(`status: ${e.file} says failed but is not in failed/`);
    if (!shouldFail && inProcessed.length === 0) violations.push(`status: ${e.file} says ${e.status} but is not in processed/`);
    if (shouldFail && !errorRecords.includes(`${stem}.error.json`)) violations.push(`status: ${e.file} failed without its error record`);
  }
  const known = new Set(setup.intents.map((i) => i.file.replace(/\.json$/, '.status.json')));
  const strays = entries(join(root, 'status')).filter((n) => !known.has(n));
  if (strays.length > 0) violations.push(`status: unexpected entries in status/: ${strays.join(', ')}`);
  const temporaries = temporaryFiles(root);
  if (temporaries.length > 0) violations.push(`temporary: left ${temporaries.join(', ')}`);
  return violations;
}

/** Temporary files left by an interrupted write, anywhere under the data directory. */
function temporaryFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, relative: string) => {
    for (const name of entries(dir)) {
      const path = join(dir, name);
      const rel = relative === '' ? name : `${relative}/${name}`;
      if (/\.tmp-|\.tmp$/.test(name) || rel === 'out/.git/index.lock') found.push(rel);
      else if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) walk(path, rel);
    }
  };
  walk(root, '');
  return found;
}

// ---------- the ledger ----------

function checkLedger(setup: Setup, notes: string[]): string[] {
  const path = join(setup.root, 'state', 'ledger.sqlite');
  if (!existsSync(path)) return ['ledger: no ledger after the restart'];
  const violations: string[] = [];
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const get = db.prepare('SELECT status, settled, file FROM intents WHERE intent_id = ?');
    for (const e of ended(setup).filter(effective)) {
      const row = get.get(e.intentId) as { status: string; settled: number; file: string } | undefined;
      if (row?.status !== 'succeeded')
        violations.push(`ledger: ${e.file} (${e.intentId.slice(0, 8)}) is ${row?.status ?? 'unknown'} in the ledger`);
      else if (row.file === e.file && row.settled !== 1)
        notes.push(`ledger: the record of ${e.file} is not marked settled (retention will not prune it)`);
    }
  } finally {
    db.close();
  }
  return violations;
}

// ---------- the git sink ----------

function git(repo: string, args: string[]): { code: number | null; out: string } {
  const run = spawnSync('git', ['-C', repo, ...args], { encoding: 'utf8' });
  return { code: run.status, out: `${run.stdout}${run.stderr}`.trim() };
}

function replicasOf(text: string | undefined, target: string): number | undefined {
  if (text === undefined) return undefined;
  for (const doc of YAML.parseAllDocuments(text)) {
    const object = doc.toJS() as { kind?: string; metadata?: { name?: string }; spec?: { replicas?: number } } | null;
    if (object?.kind === 'Deployment' && object.metadata?.name === target) return object.spec?.replicas;
  }
  return undefined;
}

function showFile(repo: string, rev: string, path: string): string | undefined {
  try {
    return execFileSync('git', ['-C', repo, 'show', `${rev}:${path}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}

function checkGit(setup: Setup): string[] {
  const violations: string[] = [];
  const repo = join(setup.root, 'out');
  const status = git(repo, ['status', '--porcelain', '--untracked-files=all']);
  if (status.code !== 0 || status.out !== '')
    violations.push(`repository: working tree differs from HEAD: ${status.out.split('\n').slice(0, 6).join('; ')}`);
  const fsck = git(repo, ['fsck', '--strict', '--no-dangling']);
  if (fsck.code !== 0 || /error|bad|missing|broken/i.test(fsck.out))
    violations.push(`repository: git fsck --strict: ${fsck.out.split('\n').slice(0, 4).join('; ')}`);
  const log = gitLog(repo);
  const all = ended(setup);
  for (const id of new Set(all.map((e) => e.intentId))) {
    const sharing = all.filter((e) => e.intentId === id);
    const applied = sharing.filter(effective);
    const commits = log.filter((c) => c.intentIds.includes(id));
    const names = sharing.map((e) => e.file).join(' / ');
    if (applied.length > 1) violations.push(`effect: ${names} all say succeeded under one intent id`);
    if (applied.length === 0) {
      if (commits.length > 0)
        violations.push(
          `effect: ${names} took no effect (${sharing.map((e) => e.status).join('/')}) yet ${commits.length} commit(s) carry the id`,
        );
      continue;
    }
    if (commits.length !== 1) {
      violations.push(`effect: ${applied[0]!.file} has ${commits.length} commits, expected exactly one`);
      continue;
    }
    const { intent } = applied[0]!;
    const replicas = replicasOf(showFile(repo, commits[0]!.hash, `${intent.namespace}/${intent.target}/deployment.yaml`), intent.target);
    if (replicas !== intent.replicas)
      violations.push(`effect: the commit of ${applied[0]!.file} holds replicas ${replicas}, not the intent's ${intent.replicas}`);
  }
  for (const [target, w] of newestPerTarget(setup)) {
    const replicas = replicasOf(showFile(repo, 'HEAD', `${w.intent.namespace}/${target}/deployment.yaml`), target);
    if (replicas !== w.intent.replicas)
      violations.push(`newest: ${target} holds replicas ${replicas} at HEAD, the newest intent (${w.file}) says ${w.intent.replicas}`);
  }
  return violations;
}

// ---------- the Porch sink ----------

function checkPorch(setup: Setup): string[] {
  const sim = setup.sim!;
  const violations: string[] = [];
  const revisions = sim.listRevisions({ repository: PORCH_REPOSITORY });
  const all = ended(setup);
  const workspaces = new Set(all.map((e) => `intent-${e.intentId}`));
  for (const r of revisions) {
    const { workspaceName, lifecycle, revision } = r.spec as { workspaceName?: string; lifecycle?: string; revision?: number };
    if ((revision ?? 0) < 0) continue; // the main-branch placeholder
    if (r.spec.workspaceName === SEEDED_WORKSPACE) continue; // the existing package's first revision
    if (workspaceName === undefined || !workspaces.has(workspaceName))
      violations.push(`effect: stray revision ${r.metadata.name} (${workspaceName})`);
    if (lifecycle !== 'Published') violations.push(`effect: revision ${r.metadata.name} left ${lifecycle}`);
  }
  for (const id of new Set(all.map((e) => e.intentId))) {
    const sharing = all.filter((e) => e.intentId === id);
    const applied = sharing.filter(effective);
    const names = sharing.map((e) => e.file).join(' / ');
    const mine = revisions.filter((r) => r.spec.workspaceName === `intent-${id}` && r.spec.lifecycle === 'Published');
    if (applied.length > 1) violations.push(`effect: ${names} all say succeeded under one intent id`);
    if (applied.length === 0) {
      if (mine.length > 0) violations.push(`effect: ${names} took no effect yet ${mine.length} published revision(s) are in its workspace`);
      continue;
    }
    if (mine.length !== 1) {
      violations.push(`effect: ${applied[0]!.file} has ${mine.length} published revisions, expected exactly one`);
      continue;
    }
    const { intent } = applied[0]!;
    const replicas = porchReplicas(sim, mine[0]!.metadata.name!, intent.target);
    if (replicas !== intent.replicas)
      violations.push(`effect: the revision of ${applied[0]!.file} holds replicas ${replicas}, not the intent's ${intent.replicas}`);
  }
  for (const [target, w] of newestPerTarget(setup)) {
    let latest: (typeof revisions)[number] | undefined;
    for (const r of revisions) {
      if (r.spec.packageName !== target || r.spec.lifecycle !== 'Published' || (r.spec.revision ?? 0) <= 0) continue;
      if (latest === undefined || (r.spec.revision ?? 0) > (latest.spec.revision ?? 0)) latest = r;
    }
    const replicas = latest === undefined ? undefined : porchReplicas(sim, latest.metadata.name!, target);
    if (replicas !== w.intent.replicas)
      violations.push(
        `newest: ${target}'s latest published revision holds replicas ${replicas}, the newest intent (${w.file}) says ${w.intent.replicas}`,
      );
  }
  return violations;
}

function porchReplicas(sim: PorchSim, name: string, target: string): number | undefined {
  const files = sim.getResources(name, PORCH_NAMESPACE) ?? {};
  for (const [file, text] of Object.entries(files)) {
    if (!/\.ya?ml$/.test(file)) continue;
    const replicas = replicasOf(text, target);
    if (replicas !== undefined) return replicas;
  }
  return undefined;
}

/** The points a workload can reach: the sink's own plus every point of the core and the source. */
export function pointsFor(workload: WorkloadName): CrashPointName[] {
  const foreign = workload === 'git' ? 'porch.' : 'git.';
  return CRASH_POINTS.filter((p) => !p.startsWith(foreign));
}

/** Removes a directory tree (used by the sweep for scratch space). */
export function removeTree(path: string): void {
  rmSync(path, { recursive: true, force: true });
}
