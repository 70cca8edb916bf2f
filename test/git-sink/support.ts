// Shared set-up for the git sink's tests: a repository prepared by hand the way an operator's
// GitOps repository would be (with git itself), and intent files with a chosen producer time.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const IDENTITY = [
  '-c',
  'user.name=Operator',
  '-c',
  'user.email=operator@example.com',
  '-c',
  'commit.gpgsign=false',
  '-c',
  'core.hooksPath=/dev/null',
];

/** Runs git in `repo` with a fixed identity; returns its standard output. */
export function gitIn(repo: string, ...args: string[]): string {
  return execFileSync('git', [...IDENTITY, '-C', repo, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A repository on branch main whose first commit is what `prepare` puts into the working tree. */
export function initRepo(repo: string, prepare: () => void): string {
  execFileSync('git', ['init', '-q', '-b', 'main', repo]);
  prepare();
  gitIn(repo, 'add', '-A');
  gitIn(repo, 'commit', '-q', '--allow-empty', '-m', 'operator: initial packages');
  return gitIn(repo, 'rev-parse', 'HEAD').trim();
}

/**
 * Writes an intent file whose modification time (the producer's order) is `at` (ms since the
 * epoch): written and dated under a temporary name, then renamed, so no reader sees another time.
 */
export function dropIntentAt(handoff: string, name: string, content: unknown, at: number): string {
  const temporary = join(handoff, `.${name}.tmp`);
  writeFileSync(temporary, typeof content === 'string' ? content : JSON.stringify(content));
  utimesSync(temporary, at / 1000, at / 1000);
  const path = join(handoff, name);
  renameSync(temporary, path);
  return path;
}

export interface StatusRecord {
  status: string;
  code?: string;
  message?: string;
  intentId: string;
}

export function statusOf(root: string, stem: string): StatusRecord {
  return JSON.parse(readFileSync(join(root, 'status', `${stem}.status.json`), 'utf8')) as StatusRecord;
}

/** `git fsck --strict` and `git status --porcelain` of a repository: both empty when it is whole. */
export function wholeness(repo: string): { fsck: string; status: string } {
  // fsck reports a stray file under objects/ ("bad sha1 file") on stderr with exit 0.
  const fsck = spawnSync('git', ['-C', repo, 'fsck', '--strict', '--no-progress', '--no-dangling'], { encoding: 'utf8' });
  const problems = `${fsck.stdout}${fsck.stderr}`.trim() || (fsck.status === 0 ? '' : `exit ${fsck.status}`);
  return { fsck: problems, status: gitIn(repo, 'status', '--porcelain').trim() };
}
