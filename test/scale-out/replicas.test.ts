// Issue 4, acceptance 2: replicas sharing one handoff directory through the redis-coordination
// plugin (a real Redis on 127.0.0.1:6379), each with its own state directory. Every intent is
// applied once; when one replica is killed, the others finish the files it had claimed within
// the lease time plus five seconds. An intent older than one already applied for its target is
// settled as superseded (issue 18), and every target ends at its newest intent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startCli, type Running } from '../support/cli.ts';
import { BLUEPRINT, dropIntent, list, makeDataDir, scaling, writeJsonConfig } from '../support/data-dir.ts';
import { gitLog } from '../support/git.ts';
import { waitFor } from '../support/wait.ts';

const INTENTS = Number(process.env['SCALE_INTENTS'] ?? 300);
const LEASE_MS = 2_000;

function replicaConfig(dataDir: string, prefix: string) {
  return {
    dataDir,
    logLevel: 'warn',
    plugins: {
      'fs-source': { debounceMs: 0, rescanMs: 250 },
      'schema-validate': {},
      'rate-limit': { requestsPerMinute: 600_000, burst: 1_000, redisUrl: 'redis://127.0.0.1:6379', keyPrefix: `${prefix}:rate` },
      'git-sink': { blueprint: BLUEPRINT },
      'redis-coordination': { url: 'redis://127.0.0.1:6379', keyPrefix: prefix, leaseMs: LEASE_MS, replicaId: '${env:REPLICA_ID}' },
    },
  };
}

function startReplicas(config: string, root: string, count: number): Running[] {
  return Array.from({ length: count }, (_, i) =>
    startCli(['run', '--config', config, '--state-dir', join(root, 'state', `replica-${i}`)], { env: { REPLICA_ID: `replica-${i}` } }),
  );
}

/** An intent as dropped: its target, replicas and the producer's write time (its order). */
interface Dropped {
  name: string;
  target: string;
  replicas: number;
  mtimeMs: number;
}

function dropAll(handoff: string): Dropped[] {
  return Array.from({ length: INTENTS }, (_, i) => {
    const name = `intent-${i}.json`;
    const intent = scaling(`app-${i % 40}`, (i % 7) + 1);
    const path = dropIntent(handoff, name, intent, { atomic: true });
    return { name, target: intent.target, replicas: intent.replicas, mtimeMs: statSync(path).mtimeMs };
  });
}

/**
 * Each intent took effect exactly once, or was settled as superseded because a newer one for
 * its target was applied first (issue 18: the newest intent for a target wins across replicas);
 * and every target ends holding the replicas of its newest intent (of one of them, when several
 * share the newest write time).
 */
function assertAppliedOnce(root: string, dropped: readonly Dropped[]): void {
  assert.deepEqual(list(join(root, 'failed')), []);
  const perIntent = new Map<string, number>();
  for (const c of gitLog(join(root, 'out'))) for (const id of c.intentIds) perIntent.set(id, (perIntent.get(id) ?? 0) + 1);
  assert.deepEqual(
    [...perIntent.entries()].filter(([, n]) => n !== 1),
    [],
    'none committed twice',
  );
  const statuses = dropped.map(
    (d) => JSON.parse(readFileSync(join(root, 'status', d.name.replace(/\.json$/, '.status.json')), 'utf8')) as { status: string },
  );
  const superseded = statuses.filter((s) => s.status === 'superseded').length;
  assert.deepEqual(
    new Set(statuses.map((s) => s.status)).difference(new Set(['succeeded', 'superseded'])),
    new Set(),
    'succeeded or superseded',
  );
  assert.equal(perIntent.size + superseded, INTENTS, 'every intent committed or superseded');
  for (const target of new Set(dropped.map((d) => d.target))) {
    const mine = dropped.filter((d) => d.target === target);
    const newest = Math.max(...mine.map((d) => d.mtimeMs));
    const allowed = new Set(mine.filter((d) => d.mtimeMs === newest).map((d) => d.replicas));
    const deployment = readFileSync(join(root, 'out', 'oran-odu', target, 'deployment.yaml'), 'utf8');
    const replicas = Number(/^ {2}replicas: (\d+)$/m.exec(deployment)?.[1]);
    assert.ok(allowed.has(replicas), `${target} holds ${replicas}, its newest intent says ${[...allowed].join(' or ')}`);
  }
}

const processedCount = (root: string) => new Set(list(join(root, 'processed')).map((n) => n.replace(/(\.\d+)?\.json$/, ''))).size;

for (const replicas of [2, 3]) {
  test(`${replicas} replicas share ${INTENTS} intents, each applied once`, { timeout: 300_000 }, async (t) => {
    const dir = makeDataDir();
    t.after(dir.cleanup);
    const prefix = `conductor-test-${process.pid}-${replicas}-${Date.now()}`;
    const config = writeJsonConfig(dir.root, replicaConfig(dir.root, prefix));
    const running = startReplicas(config, dir.root, replicas);
    t.after(() => running.forEach((r) => r.child.kill('SIGKILL')));
    const dropped = dropAll(dir.handoff);
    await waitFor('every intent processed', () => processedCount(dir.root) === INTENTS, 240_000, 50);
    for (const r of running) r.child.kill('SIGTERM');
    const results = await Promise.all(running.map((r) => r.exited));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    assertAppliedOnce(dir.root, dropped);
    const committers = new Set(list(join(dir.root, 'state')));
    assert.equal(committers.size, replicas, 'each replica kept its own state directory');
  });
}

test('a replica killed mid-run: the others finish its claims within the lease plus five seconds', { timeout: 300_000 }, async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const prefix = `conductor-test-${process.pid}-kill-${Date.now()}`;
  const redis = new Redis('redis://127.0.0.1:6379');
  t.after(() => redis.quit());
  const config = writeJsonConfig(dir.root, replicaConfig(dir.root, prefix));
  const running = startReplicas(config, dir.root, 3);
  t.after(() => running.forEach((r) => r.child.kill('SIGKILL')));
  const dropped = dropAll(dir.handoff);

  await waitFor('a third of the work done', () => processedCount(dir.root) >= INTENTS / 3, 120_000, 10);
  const claimsOf = async (replicaId: string) => {
    const names: string[] = [];
    for (const key of await redis.keys(`${prefix}:claim:*`))
      if ((await redis.get(key)) === replicaId) names.push(key.slice(`${prefix}:claim:`.length));
    return names;
  };
  running[0]!.child.kill('SIGKILL');
  const killedAt = Date.now();
  await running[0]!.exited;
  const orphaned = await claimsOf('replica-0');
  t.diagnostic(`replica-0 held ${orphaned.length} claim(s) when killed`);
  await waitFor('the orphaned files processed', () => orphaned.every((name) => !list(dir.handoff).includes(name)), LEASE_MS + 5_000, 20);
  const took = Date.now() - killedAt;
  assert.ok(took <= LEASE_MS + 5_000, `orphaned claims finished ${took} ms after the kill`);

  await waitFor('every intent processed', () => processedCount(dir.root) === INTENTS, 240_000, 50);
  for (const r of running.slice(1)) r.child.kill('SIGTERM');
  for (const r of await Promise.all(running.slice(1).map((r) => r.exited))) assert.equal(r.code, 0, r.stderr);
  assertAppliedOnce(dir.root, dropped);
});

test('a second process on the same state directory is refused with the owner named', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const config = writeJsonConfig(dir.root, {
    dataDir: dir.root,
    logLevel: 'info',
    plugins: { 'fs-source': { debounceMs: 0 }, 'git-sink': { blueprint: BLUEPRINT } },
  });
  const first = startCli(['run', '--config', config]);
  t.after(() => first.child.kill('SIGKILL'));
  await waitFor('first started', () => first.output().stdout.includes('conductor started'));
  const second = await startCli(['once', '--config', config]).exited;
  assert.equal(second.code, 2);
  assert.match(second.stderr, new RegExp(`CND_ERR_LOCKED: the data directory is in use by process ${first.child.pid}`));
  first.child.kill('SIGTERM');
  assert.equal((await first.exited).code, 0);
});
