// Issue 19, defect 6: the audit log is anchored outside itself. The audit-log plugin offers the
// chain's head through the core's `anchor` hook; a sink records it with each effect (here a test
// sink committing with the git CLI, as the git sink does with its trailer). Cutting the tail of
// the log and rewriting its checkpoint verifies as intact on the log alone, and is found out
// against the anchors; re-chaining the log is found out against the anchors and the key.
// Issue 13, defect 8: two replicas sharing a data directory write a chain each by default, and
// `audit verify` checks every chain of the data directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { definePlugin, type Receipt } from '../../core/index.ts';
import { checkpointPathOf, hashRecord } from '../../plugins/audit-log/chain.ts';
import { runCli } from '../support/cli.ts';
import { dropIntent, FAST, makeDataDir, openPipeline, scaling, startAndSettle } from '../observability/support/pipeline.ts';
import { recordingSink } from '../observability/support/test-plugins.ts';

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@example.com',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@example.com',
};

/** A sink that commits each effect with the anchor the core gave it, as a trailer. */
function anchoringSink(repo: string) {
  return definePlugin({
    name: 'anchoring-sink',
    kind: 'submit',
    description: 'test: commits each intent with its audit anchor as a trailer',
    optionsSchema: { type: 'object', additionalProperties: false },
    defaults: {},
    create(context) {
      return {
        apply(hooks) {
          hooks.submit.tapPromise(context.id, async (intent, ctx): Promise<Receipt> => {
            writeFileSync(join(repo, `${intent.target}.txt`), `${intent.replicas}\n`);
            execFileSync('git', ['-C', repo, 'add', '-A'], { env: GIT_ENV });
            const message = `scale ${intent.target}\n\nConductor-Intent-Id: ${ctx.intentId}\nConductor-Audit-Anchor: ${ctx.anchor ?? 'none'}\n`;
            execFileSync('git', ['-C', repo, 'commit', '-q', '--allow-empty', '-m', message], { env: GIT_ENV });
            return { sink: context.id, ref: ctx.intentId.slice(0, 8) };
          });
        },
      };
    },
  });
}

/** Rewrites a log and its checkpoint with a plain sha256 chain, as an attacker without the key could. */
function rechain(lines: string[]): { lines: string[]; head: { seq: number; hash: string } } {
  let prev = '0'.repeat(64);
  const out: string[] = [];
  lines.forEach((line, index) => {
    const { hash: _old, mac: _mac, ...rest } = JSON.parse(line) as Record<string, unknown>;
    const record = { ...rest, seq: index + 1, prev };
    prev = hashRecord(record);
    out.push(JSON.stringify({ ...record, hash: prev }));
  });
  return { lines: out, head: { seq: out.length, hash: prev } };
}

function writeLog(log: string, lines: string[], head: { seq: number; hash: string }): void {
  writeFileSync(log, `${lines.join('\n')}\n`);
  writeFileSync(checkpointPathOf(log), `${JSON.stringify(head).padEnd(127)}\n`);
}

test('cutting the audit tail and rewriting .head is found out against the anchors; re-chaining against the key', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const outside = join(dir.root, '..', `${dir.root.split('/').pop()}-outside`);
  const repo = join(outside, 'repo');
  mkdirSync(repo, { recursive: true });
  t.after(() => execFileSync('rm', ['-rf', outside]));
  execFileSync('git', ['init', '-q', repo]);
  const keyFile = join(outside, 'audit.key');
  writeFileSync(keyFile, 'a-key-of-thirty-two-bytes-at-least!!\n', { mode: 0o600 });

  for (let i = 0; i < 12; i += 1) dropIntent(dir.handoff, `intent-${i}.json`, scaling(`app-${i}`, 1 + i));
  const conductor = await openPipeline({
    dataDir: dir.root,
    ...FAST,
    concurrency: 1,
    modules: { 'anchoring-sink': anchoringSink(repo) },
    plugins: { 'fs-source': { debounceMs: 0 }, 'anchoring-sink': {}, 'audit-log': { hmacKeyFile: keyFile } },
  });
  try {
    await startAndSettle(conductor, 12, 30_000);
  } finally {
    await conductor.stop();
  }
  const trailers = execFileSync('git', ['-C', repo, 'log', '--format=%(trailers:key=Conductor-Audit-Anchor,valueonly)'], {
    encoding: 'utf8',
  });
  assert.equal(trailers.split('\n').filter((l) => /^audit\.log@\d+:[0-9a-f]{64}$/.test(l)).length, 12, trailers);

  const config = join(outside, 'conductor.config.json');
  writeFileSync(config, JSON.stringify({ dataDir: dir.root, plugins: { 'git-sink': {}, 'audit-log': { hmacKeyFile: keyFile } } }));
  const verify = (...flags: string[]) => runCli(['audit', 'verify', '--config', config, ...flags]);
  const intact = await verify('--anchors-from-git', repo);
  assert.equal(intact.code, 0, intact.stderr);
  assert.match(intact.stdout, /12 records, chain intact; the checkpoint matches; 12 keyed records, MACs match; 12 anchors match/);

  const log = join(dir.root, 'audit', 'audit.log');
  const original = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  // 1. The tail cut and .head rewritten to the new last record: the log alone looks intact.
  const kept = original.slice(0, 6);
  const last = JSON.parse(kept.at(-1)!) as { seq: number; hash: string };
  writeLog(log, kept, { seq: last.seq, hash: last.hash });
  const alone = await verify();
  assert.equal(alone.code, 0, 'without anchors the cut goes unnoticed (the defect the anchors close)');
  const cut = await verify('--anchors-from-git', repo);
  assert.equal(cut.code, 1, cut.stdout);
  assert.match(
    cut.stderr,
    /line 7: missing: the anchor in commit [0-9a-f]{12} records \d+ records, the log holds 6 \(lines were removed from the end\)/,
  );

  // 2. The whole log re-chained with plain sha256 (one record edited): the key and the anchors both find it.
  const edited = original.map((line, index) =>
    index === 2 ? line.replace(/"replicas":\d+|"outcome":"succeeded"/, '"outcome":"failed"') : line,
  );
  const forged = rechain(edited);
  writeLog(log, forged.lines, forged.head);
  const byKey = await verify();
  assert.equal(byKey.code, 1, byKey.stdout);
  assert.match(byKey.stderr, /line 12: no record is keyed, but a key was given|not keyed/);
  const byAnchors = await verify('--key-file', keyFile, '--anchors-from-git', repo);
  assert.equal(byAnchors.code, 1);
  writeFileSync(config, JSON.stringify({ dataDir: dir.root, plugins: { 'git-sink': {}, 'audit-log': {} } }));
  const anchorsOnly = await verify('--anchors-from-git', repo);
  assert.equal(anchorsOnly.code, 1, anchorsOnly.stdout);
  assert.match(anchorsOnly.stderr, /it does not match the anchor in commit [0-9a-f]{12} \(the log was rewritten\)/);
});

test('two replicas sharing a data directory write a chain each; audit verify checks every chain', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const pipelines = await Promise.all(
    ['a', 'b'].map(async (replica) => {
      for (let i = 0; i < 40; i += 1) dropIntent(dir.handoff, `intent-${replica}-${i}.json`, scaling(`${replica}-${i}`, 1 + (i % 5)));
      const sink = recordingSink();
      return openPipeline({
        dataDir: dir.root,
        stateDir: join(dir.root, `state-${replica}`),
        ...FAST,
        modules: { 'recording-sink': sink.definition },
        // Each replica takes its own files, so that the two only share the audit directory.
        plugins: { 'fs-source': { debounceMs: 0, pattern: `intent-${replica}-*.json` }, 'recording-sink': {}, 'audit-log': {} },
      });
    }),
  );
  try {
    await Promise.all(pipelines.map((conductor) => startAndSettle(conductor, 40, 30_000)));
  } finally {
    await Promise.all(pipelines.map((conductor) => conductor.stop()));
  }
  const logs = readdirSync(join(dir.root, 'audit')).filter((n) => n.endsWith('.log'));
  assert.equal(logs.length, 2, `one chain per replica: ${logs.join(', ')}`);
  const config = join(dir.root, 'verify.config.json');
  writeFileSync(config, JSON.stringify({ dataDir: dir.root, plugins: { 'git-sink': {}, 'audit-log': {} } }));
  const result = await runCli(['audit', 'verify', '--config', config]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.match(/40 records, chain intact/g)?.length, 2, result.stdout);
});
