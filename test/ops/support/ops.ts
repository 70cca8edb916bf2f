// Helpers for the operations tests: a data directory with a known set of intents, the
// repository's commits per intent id, and what a data directory holds.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ledger } from '../../../core/delivery/ledger.ts';
import { fastConfig, scaling } from '../../support/data-dir.ts';

export const TRAILER_FORMAT = '--format=%(trailers:key=Conductor-Intent-Id,valueonly)';

/** Intent id → how many commits carry it, read with `git log` as a reviewer would. */
export function commitsPerIntent(repo: string): Map<string, number> {
  const counts = new Map<string, number>();
  if (!existsSync(join(repo, '.git'))) return counts;
  const out = execFileSync('git', ['-C', repo, 'log', TRAILER_FORMAT], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  for (const id of out
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean))
    counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

/** Writes intent-NNNN.json files through a temporary name and a rename, as producers should. */
export function dropIntents(handoff: string, count: number, prefix = 'ops', first = 0): string[] {
  const names: string[] = [];
  for (let i = first; i < first + count; i += 1) {
    const name = `intent-${String(i).padStart(4, '0')}.json`;
    const temporary = join(handoff, `.${name}.tmp`);
    // Eight targets: intents for one target run one at a time, different targets in parallel.
    writeFileSync(temporary, JSON.stringify(scaling(`${prefix}-target-${i % 8}`, 1 + (i % 9), { correlation_id: `${prefix}-${i}` })));
    renameSync(temporary, join(handoff, name));
    names.push(name);
  }
  return names;
}

/** File name → intent id, from the status files a run wrote. */
export function intentIdsByFile(dataDir: string): Map<string, string> {
  const ids = new Map<string, string>();
  const dir = join(dataDir, 'status');
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.status.json'))) {
    const status = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { file: string; intentId: string };
    ids.set(status.file, status.intentId);
  }
  return ids;
}

export function intentFilesIn(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((n) => /^intent-.*\.json$/.test(n) && !n.endsWith('.error.json')) : [];
}

/** The ledger's record for each id (or undefined), read through the Ledger class. */
export function ledgerRecords(stateDir: string, ids: Iterable<string>): Map<string, ReturnType<Ledger['get']>> {
  const ledger = new Ledger(join(stateDir, 'ledger.sqlite'));
  try {
    return new Map([...ids].map((id) => [id, ledger.get(id)]));
  } finally {
    ledger.close();
  }
}

/** A config file outside the data directory (the data directory is passed with --data-dir). */
export function opsConfig(plugins: Record<string, Record<string, unknown>> = {}): Record<string, unknown> {
  const { dataDir: _unused, ...config } = fastConfig('', plugins);
  return { ...config, logLevel: 'info' };
}
