// The floor for the git sink: what git itself can do for the same work, with no framework. One
// process reads and parses each intent file, renders the same package files (the blueprint
// instantiated for a new target, the Deployment's replicas changed for an existing one), streams
// one commit per intent to one `git fast-import` (only the changed files, `from` the previous
// commit), and moves the file. A file is moved only once its commit is durable: after a
// `checkpoint` every `checkpointEvery` intents (1: each commit its own checkpoint) — the same
// promise the sink keeps. Run in its own process (bench/lib/child.ts) and timed whole.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyIntentToPackage, instantiateBlueprint, type Intent, type PackageFiles } from '../../core/index.ts';

const BLUEPRINT = fileURLToPath(new URL('../../examples/blueprints/deployment', import.meta.url));

export interface BareFastImportArgs {
  /** Holds handoff/ (the intents); processed/ and out/ (the repository) are made here. */
  dir: string;
  checkpointEvery: number;
}

export interface BareFastImportResult {
  count: number;
  wallMs: number;
  cpuMs: number;
  /** When each intent's file was moved (ms since the epoch), for throughput by quarter. */
  settledAt: number[];
}

const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;

/** fast-import with the sink's settings; `checkpoint` resolves once the pack is closed and the branch moved. */
function fastImport(repo: string) {
  const child = spawn(
    'git',
    ['-c', 'core.fsync=none', '-c', 'fastimport.unpackLimit=0', '-c', 'core.compression=1', 'fast-import', '--quiet', '--done'],
    {
      cwd: repo,
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const waiting: (() => void)[] = [];
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl !== -1; nl = buffered.indexOf('\n')) {
      buffered = buffered.slice(nl + 1);
      waiting.shift()?.();
    }
  });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return {
    write: (text: string) => child.stdin.write(text),
    checkpoint: (mark: number) =>
      new Promise<void>((resolve) => {
        waiting.push(resolve);
        child.stdin.write(`checkpoint\n\nget-mark :${mark}\n`);
      }),
    done: async () => {
      child.stdin.end('done\n');
      await exited;
    },
  };
}

export async function bareFastImport(args: BareFastImportArgs): Promise<BareFastImportResult> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const handoff = join(args.dir, 'handoff');
  const processed = join(args.dir, 'processed');
  const repo = join(args.dir, 'out');
  mkdirSync(processed, { recursive: true });
  execFileSync('git', ['init', '--quiet', '--initial-branch', 'main', repo]);
  const blueprint: PackageFiles = {};
  for (const name of readdirSync(BLUEPRINT)) blueprint[name] = readFileSync(join(BLUEPRINT, name), 'utf8');
  const git = fastImport(repo);
  const packages = new Map<string, PackageFiles>();
  const names = readdirSync(handoff)
    .filter((n) => n.endsWith('.json'))
    .sort();
  let moves: string[] = [];
  let mark = 0;
  const settledAt: number[] = [];
  for (const name of names) {
    const intent = JSON.parse(readFileSync(join(handoff, name), 'utf8')) as Intent;
    const key = `${intent.namespace}/${intent.target}`;
    const before = packages.get(key);
    const files = before === undefined ? instantiateBlueprint(blueprint, intent) : applyIntentToPackage(before, intent, name).files;
    packages.set(key, files);
    const changed = Object.entries(files).filter(([file, text]) => before?.[file] !== text);
    mark += 1;
    const who = `Bare <bare@localhost> ${Math.floor(Date.now() / 1000)} +0000`;
    const modify = changed.map(([file, text]) => `M 100644 inline ${key}/${file}\n${data(text)}`).join('');
    git.write(
      `commit refs/heads/main\nmark :${mark}\ncommitter ${who}\n${data(`scale ${key}\n\nIntent file: ${name}\n`)}` +
        `${mark > 1 ? `from :${mark - 1}\n` : ''}${modify}\n`,
    );
    moves.push(name);
    if (moves.length >= args.checkpointEvery) moves = await settle(git, mark, moves, handoff, processed, settledAt);
  }
  if (moves.length > 0) await settle(git, mark, moves, handoff, processed, settledAt);
  await git.done();
  const used = process.cpuUsage(cpu);
  return { count: names.length, wallMs: performance.now() - started, cpuMs: (used.user + used.system) / 1000, settledAt };
}

/** The checkpoint, then the files whose commits it made durable are moved. */
async function settle(
  git: ReturnType<typeof fastImport>,
  mark: number,
  moves: string[],
  handoff: string,
  processed: string,
  settledAt: number[],
): Promise<string[]> {
  await git.checkpoint(mark);
  for (const name of moves) {
    renameSync(join(handoff, name), join(processed, name));
    settledAt.push(Date.now());
  }
  return [];
}
