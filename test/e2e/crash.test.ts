// Issue 2 acceptance 7 and issue 4 acceptance 1 (the short CI version): `kill -9` the real CLI
// at random moments while it works through 200 intents, restart it each time, and check the
// invariants: every intent ends in processed/ (none lost, none in failed/), handoff/ ends
// empty, and the git history holds exactly one commit per intent id — with one commit per
// intent (the default) and with grouped commits (several intents, one trailer each).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { runCli, startCli } from '../support/cli.ts';
import { BLUEPRINT, dropIntent, fastConfig, list, makeDataDir, scaling, writeJsonConfig } from '../support/data-dir.ts';
import { gitLog } from '../support/git.ts';
import { waitFor } from '../support/wait.ts';

const INTENTS = Number(process.env['CHAOS_INTENTS'] ?? 200);
const KILLS = Number(process.env['CHAOS_KILLS'] ?? 5);
const SEED = Number(process.env['CHAOS_SEED'] ?? Date.now() % 100_000);

for (const group of [1, 8]) {
  const shape = group === 1 ? 'one commit per intent' : `up to ${group} intents per commit`;
  test(
    `chaos: ${KILLS} kill -9 during ${INTENTS} intents lose nothing and apply nothing twice, ${shape} (seed ${SEED})`,
    { timeout: 600_000 },
    async (t) => {
      const dir = makeDataDir();
      t.after(dir.cleanup);
      // Several intents share a target, so per-target ordering and resumption are exercised too.
      for (let i = 0; i < INTENTS; i += 1)
        dropIntent(
          dir.handoff,
          `intent-${String(i).padStart(5, '0')}.json`,
          scaling(`app-${i % 50}`, (i % 9) + 1, { reason: `chaos ${i}` }),
        );
      const config = writeJsonConfig(dir.root, {
        ...fastConfig(dir.root, { 'fs-source': { debounceMs: 0 }, 'git-sink': { blueprint: BLUEPRINT, maxIntentsPerCommit: group } }),
        concurrency: group === 1 ? 4 : 16,
      });
      const out = join(dir.root, 'out');
      // Kill points: after a random number of further intents committed (0: as soon as it started).
      const steps = fc.sample(fc.integer({ min: 0, max: Math.max(1, Math.floor(INTENTS / (KILLS + 1))) }), { numRuns: KILLS, seed: SEED });

      for (const step of steps) {
        const before = committedIds(out);
        if (before >= INTENTS) break;
        const running = startCli(['run', '--config', config]);
        await waitFor(
          'progress before the kill',
          () => committedIds(out) >= Math.min(INTENTS, before + step) || running.child.exitCode !== null,
          120_000,
          2,
        );
        running.child.kill('SIGKILL');
        await running.exited;
      }
      const final = await runCli(['once', '--config', config]);
      assert.equal(final.code, 0, final.stderr);

      assert.deepEqual(list(dir.handoff), [], 'handoff/ is empty');
      assert.deepEqual(list(join(dir.root, 'failed')), [], 'nothing failed');
      const processedStems = new Set(list(join(dir.root, 'processed')).map((n) => n.replace(/(\.\d+)?\.json$/, '')));
      assert.equal(processedStems.size, INTENTS, 'every intent reached processed/');

      const commits = gitLog(out);
      const perIntent = new Map<string, number>();
      for (const c of commits) for (const id of c.intentIds) perIntent.set(id, (perIntent.get(id) ?? 0) + 1);
      assert.equal(perIntent.size, INTENTS, 'every intent has a commit');
      assert.deepEqual(
        [...perIntent.values()].filter((n) => n !== 1),
        [],
        'no intent has two commits',
      );
      for (const stem of processedStems) {
        const status = JSON.parse(readFileSync(join(dir.root, 'status', `${stem}.status.json`), 'utf8')) as {
          intentId: string;
          status: string;
        };
        assert.ok(perIntent.has(status.intentId), `${stem} is committed`);
      }
    },
  );
}

/** How many intents the history holds (a grouped commit holds several). */
function committedIds(repo: string): number {
  return gitLog(repo).reduce((n, c) => n + c.intentIds.length, 0);
}
