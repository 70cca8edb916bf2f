// Reading the git sink's repository the way a reviewer would: commits and their trailers.
import { execFileSync } from 'node:child_process';

/** Commits, newest first; `intentIds` holds every trailer of a grouped commit, `intentId` them joined by commas. */
export function gitLog(repo: string): { hash: string; subject: string; intentId: string; intentIds: string[] }[] {
  let out: string;
  try {
    out = execFileSync('git', ['-C', repo, 'log', '--format=%H%x09%s%x09%(trailers:key=Conductor-Intent-Id,valueonly,separator=%x2C)'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return [];
  }
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [hash, subject, intentId] = line.split('\t');
      const ids = (intentId ?? '').trim();
      return { hash: hash!, subject: subject!, intentId: ids, intentIds: ids === '' ? [] : ids.split(',') };
    });
}

export function gitShow(repo: string, rev: string, path: string): string {
  return execFileSync('git', ['-C', repo, 'show', `${rev}:${path}`], { encoding: 'utf8' });
}

export function filesInCommit(repo: string, rev: string): string[] {
  return execFileSync('git', ['-C', repo, 'show', '--name-only', '--format=', rev], { encoding: 'utf8' }).split('\n').filter(Boolean);
}
