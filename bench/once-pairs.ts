// Two `once` processes started together on one fresh data directory, many times over, and
// `conductor status` called again and again beside a working `run` (the delivery issue's
// acceptance 4): exactly one process of a pair owns the state directory, no ledger is ever set
// aside or quarantined, and every intent is committed once.
//
//   node bench/once-pairs.ts                      80 pairs, 25 status calls
//   node bench/once-pairs.ts --pairs 10 --status 5 --parallel 2
//
// Prints one JSON object with the figures; exits 1 when any check fails.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** The blueprint the project ships: new targets are instantiated from it. */
const BLUEPRINT = fileURLToPath(new URL('../examples/blueprints/deployment', import.meta.url));

const CLI = fileURLToPath(new URL('../core/cli/conductor.js', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const INTENTS_PER_DIR = 3;

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface PairsReport {
  pairs: number;
  /** How many processes exited with each code (0: did the work or found nothing left; 2: refused, locked). */
  exitCodes: Record<string, number>;
  ledgersSetAside: number;
  locksLeft: number;
  intents: number;
  commits: number;
  /** Directories whose commits do not match their intents one to one. */
  badDirectories: string[];
  problems: string[];
}

export interface StatusReport {
  calls: number;
  failedCalls: number;
  quarantined: number;
  ledgersSetAside: number;
  processedWhileReading: number;
  problems: string[];
}

function run(args: string[]): { child: ReturnType<typeof spawn>; exited: Promise<Exit> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return { child, exited: new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr }))) };
}

function freshDataDir(intents: number): { root: string; config: string } {
  const root = mkdtempSync(join(tmpdir(), 'conductor-pairs-'));
  mkdirSync(join(root, 'handoff'));
  for (let i = 0; i < intents; i += 1) {
    const intent = { intent_type: 'scaling', target: `app-${i}`, namespace: 'oran-odu', replicas: 2 + i, source: 'test' };
    writeFileSync(join(root, 'handoff', `intent-${i}.json`), JSON.stringify(intent));
  }
  const config = join(root, 'conductor.config.json');
  const plugins = {
    'fs-source': { debounceMs: 0 },
    'schema-validate': {},
    sanitize: {},
    'git-sink': { blueprint: BLUEPRINT },
    'audit-log': {},
  };
  writeFileSync(config, JSON.stringify({ dataDir: root, logLevel: 'warn', plugins }));
  return { root, config };
}

const setAside = (root: string) => readdirSync(join(root, 'state')).filter((n) => n.includes('.corrupt-')).length;

function commitsOf(repo: string): string[] {
  try {
    const out = execFileSync('git', ['-C', repo, 'log', '--format=%(trailers:key=Conductor-Intent-Id,valueonly,separator=%x2C)'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
  } catch {
    return [];
  }
}

async function onePair(report: PairsReport): Promise<void> {
  const { root, config } = freshDataDir(INTENTS_PER_DIR);
  try {
    const both = await Promise.all([run(['once', '--config', config]).exited, run(['once', '--config', config]).exited]);
    for (const exit of both) {
      report.exitCodes[String(exit.code)] = (report.exitCodes[String(exit.code)] ?? 0) + 1;
      if (exit.code !== 0 && !(exit.code === 2 && exit.stderr.includes('CND_ERR_LOCKED'))) {
        report.problems.push(`${root}: exit ${exit.code}: ${exit.stderr.trim().slice(0, 300)}`);
      }
    }
    report.ledgersSetAside += setAside(root);
    if (existsSync(join(root, 'state', 'conductor.lock'))) report.locksLeft += 1;
    const commits = commitsOf(join(root, 'out'));
    report.intents += INTENTS_PER_DIR;
    report.commits += commits.length;
    const ids = new Set(commits.flatMap((c) => c.split(',')));
    const left = readdirSync(join(root, 'handoff')).length;
    if (commits.length !== INTENTS_PER_DIR || ids.size !== INTENTS_PER_DIR || left !== 0) {
      report.badDirectories.push(`${root}: ${commits.length} commits for ${INTENTS_PER_DIR} intents, ${left} left in handoff/`);
    }
  } finally {
    if (report.problems.length === 0 && report.badDirectories.length === 0) rmSync(root, { recursive: true, force: true });
  }
}

/** `pairs` fresh data directories, each given two `once` processes started together. */
export async function oncePairs(pairs: number, parallel = 2): Promise<PairsReport> {
  const report: PairsReport = {
    pairs,
    exitCodes: {},
    ledgersSetAside: 0,
    locksLeft: 0,
    intents: 0,
    commits: 0,
    badDirectories: [],
    problems: [],
  };
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < pairs) {
        next += 1;
        await onePair(report);
      }
    }),
  );
  return report;
}

/** `conductor status` called `calls` times while `run` processes a stream of intents. */
export async function statusDuringRun(calls: number): Promise<StatusReport> {
  const { root, config } = freshDataDir(0);
  const report: StatusReport = { calls, failedCalls: 0, quarantined: 0, ledgersSetAside: 0, processedWhileReading: 0, problems: [] };
  const running = run(['run', '--config', config, '--log-level', 'info']);
  try {
    for (let waited = 0; !existsSync(join(root, 'state', 'ledger.sqlite')); waited += 1) {
      if (waited > 3_000) throw new Error('run did not start');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    for (let i = 0; i < calls; i += 1) {
      // Work for `run` while the reader reads: two new intents per call.
      for (const n of [2 * i, 2 * i + 1]) {
        const intent = { intent_type: 'scaling', target: `status-${n}`, namespace: 'oran-odu', replicas: 2, source: 'test' };
        writeFileSync(join(root, 'handoff', `intent-s${n}.json`), JSON.stringify(intent));
      }
      const status = await run(['status', '--config', config, '--json']).exited;
      if (status.code !== 0) {
        report.failedCalls += 1;
        report.problems.push(`status exit ${status.code}: ${status.stderr.trim().slice(0, 300)}`);
        continue;
      }
      const counts = JSON.parse(status.stdout) as Record<string, number>;
      report.quarantined = Math.max(report.quarantined, counts['quarantined'] ?? 0);
    }
    report.processedWhileReading = readdirSync(join(root, 'processed')).length;
  } finally {
    running.child.kill('SIGTERM');
    const exit = await running.exited;
    if (exit.code !== 0) report.problems.push(`run exit ${exit.code}: ${exit.stderr.trim().slice(0, 300)}`);
  }
  const db = new DatabaseSync(join(root, 'state', 'ledger.sqlite'), { readOnly: true });
  report.quarantined = Math.max(report.quarantined, (db.prepare('SELECT COUNT(*) AS n FROM quarantine').get() as { n: number }).n);
  db.close();
  report.ledgersSetAside = setAside(root);
  if (report.problems.length === 0) rmSync(root, { recursive: true, force: true });
  return report;
}

export function pairsOk(r: PairsReport): boolean {
  const clean = r.problems.length === 0 && r.badDirectories.length === 0 && r.ledgersSetAside === 0 && r.locksLeft === 0;
  return clean && r.commits === r.intents && !r.exitCodes['3'];
}

export function statusOk(r: StatusReport): boolean {
  return r.problems.length === 0 && r.failedCalls === 0 && r.quarantined === 0 && r.ledgersSetAside === 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      pairs: { type: 'string', default: '80' },
      status: { type: 'string', default: '25' },
      parallel: { type: 'string', default: '2' },
    },
  });
  const started = performance.now();
  const pairs = await oncePairs(Number(values.pairs), Number(values.parallel));
  const status = await statusDuringRun(Number(values.status));
  const ok = pairsOk(pairs) && statusOk(status);
  console.log(JSON.stringify({ ok, seconds: Math.round((performance.now() - started) / 1000), pairs, status }, null, 2));
  process.exitCode = ok ? 0 : 1;
}
