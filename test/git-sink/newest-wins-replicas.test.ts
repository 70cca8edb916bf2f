// Issue 18 acceptance 3: two `run` replicas on one handoff directory (Redis coordination, a
// one repository), 15 targets each given replicas 3 and then, 100 ms later by the producer's
// clock, replicas 5. Whichever replica takes which file, every target ends at 5: the older
// intent is either applied first or, arriving after the newer one, settled as superseded.
// GIT_SINK_NEWEST_ROUNDS sets how many rounds run against the same two replicas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startCli, type Running } from '../support/cli.ts';
import { BLUEPRINT, list, makeDataDir, scaling, writeJsonConfig } from '../support/data-dir.ts';
import { gitShow } from '../support/git.ts';
import { waitFor } from '../support/wait.ts';
import { dropIntentAt, statusOf, wholeness } from './support.ts';

const ROUNDS = Number(process.env['GIT_SINK_NEWEST_ROUNDS'] ?? 2);
const TARGETS = 15;

function replicaConfig(dataDir: string, prefix: string) {
  return {
    dataDir,
    logLevel: 'warn',
    plugins: {
      'fs-source': { debounceMs: 0, rescanMs: 250 },
      'schema-validate': {},
      // Shared through Redis, and tight enough to hold intents back: waiting reorders them.
      'rate-limit': { requestsPerMinute: 1_200, burst: 10, redisUrl: 'redis://127.0.0.1:6379', keyPrefix: `${prefix}:rate` },
      'git-sink': { blueprint: BLUEPRINT },
      'redis-coordination': { url: 'redis://127.0.0.1:6379', keyPrefix: prefix, leaseMs: 2_000, replicaId: '${env:REPLICA_ID}' },
    },
  };
}

const NAME = `two replicas, ${TARGETS} targets × (3, then 5 a moment later): every target ends at 5, ${ROUNDS} round(s)`;

test(NAME, { timeout: 600_000 }, async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const prefix = `conductor-test-gitsink-newest-${process.pid}-${Date.now()}`;
  const config = writeJsonConfig(dir.root, replicaConfig(dir.root, prefix));
  const running: Running[] = [0, 1].map((i) =>
    startCli(['run', '--config', config, '--state-dir', join(dir.root, 'state', `replica-${i}`)], { env: { REPLICA_ID: `replica-${i}` } }),
  );
  t.after(() => running.forEach((r) => r.child.kill('SIGKILL')));
  const out = join(dir.root, 'out');
  let wins = 0;
  let superseded = 0;

  for (let round = 0; round < ROUNDS; round += 1) {
    const base = Date.now() - 1_000;
    const files: string[] = [];
    // Newer files first in the listing half of the time, so either replica may meet either one first.
    for (let i = 0; i < TARGETS; i += 1) {
      const target = `r${round}-app-${i}`;
      const older = `intent-r${round}-${i}-a.json`;
      const newer = `intent-r${round}-${i}-b.json`;
      const writes: [string, number, number][] = [
        [older, 3, base + i],
        [newer, 5, base + i + 100],
      ];
      if (i % 2 === 1) writes.reverse();
      for (const [name, replicas, at] of writes) dropIntentAt(dir.handoff, name, scaling(target, replicas), at);
      files.push(older, newer);
    }
    const processed = () => files.every((f) => list(join(dir.root, 'processed')).includes(f));
    await waitFor(`round ${round} processed`, processed, 240_000, 25).catch((error: unknown) => {
      t.diagnostic(`stderr: ${running.map((r) => r.output().stderr).join('\n')} handoff: ${list(dir.handoff).join(' ')}`);
      throw error;
    });

    let atFive = 0;
    for (let i = 0; i < TARGETS; i += 1) {
      const yaml = gitShow(out, 'HEAD', `oran-odu/r${round}-app-${i}/deployment.yaml`);
      if (/replicas: 5\n/.test(yaml)) atFive += 1;
      const older = statusOf(dir.root, `intent-r${round}-${i}-a`);
      assert.ok(['succeeded', 'superseded'].includes(older.status), `round ${round} target ${i}: the older intent is ${older.status}`);
      if (older.status === 'superseded') superseded += 1;
      assert.equal(statusOf(dir.root, `intent-r${round}-${i}-b`).status, 'succeeded');
    }
    assert.equal(atFive, TARGETS, `round ${round}: ${atFive} of ${TARGETS} targets at 5`);
    wins += 1;
  }
  t.diagnostic(`${wins}/${ROUNDS} rounds with every target at 5; ${superseded} older intent(s) superseded`);
  assert.deepEqual(list(join(dir.root, 'failed')), []);
  for (const r of running) r.child.kill('SIGTERM');
  for (const r of await Promise.all(running.map((r) => r.exited))) assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(wholeness(out), { fsck: '', status: '' });
});
