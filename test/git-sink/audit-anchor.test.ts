// Issue 19, defect 6, with the real git sink: every commit carries the audit chain's head as it
// stood before the commit (`Conductor-Audit-Anchor`), and `conductor audit verify
// --anchors-from-git` holds the log to those anchors — cutting the log's tail and rewriting its
// checkpoint passes the log alone and fails against the repository.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkpointPathOf } from '../../plugins/audit-log/chain.ts';
import { runCli } from '../support/cli.ts';
import { dropIntent, fastConfig, makeDataDir, scaling, writeJsonConfig } from '../support/data-dir.ts';

test('the git sink records the audit anchor in each commit; a cut log is found out against them', { timeout: 120_000 }, async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  for (let i = 0; i < 6; i += 1) dropIntent(dir.handoff, `intent-${i}.json`, scaling(`app-${i}`, 1 + i));
  const config = writeJsonConfig(dir.root, { ...fastConfig(dir.root), concurrency: 1 });
  const run = await runCli(['once', '--config', config]);
  assert.equal(run.code, 0, run.stderr);

  const out = join(dir.root, 'out');
  const anchors = execFileSync('git', ['-C', out, 'log', '--format=%(trailers:key=Conductor-Audit-Anchor,valueonly)'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
  assert.equal(anchors.length, 6, 'one anchor per commit');
  for (const anchor of anchors) assert.match(anchor, /^audit\.log@\d+:[0-9a-f]{64}$/);

  const intact = await runCli(['audit', 'verify', '--config', config, '--anchors-from-git', out]);
  assert.equal(intact.code, 0, intact.stderr);
  assert.match(intact.stdout, /6 anchors match/);

  // The tail cut and the checkpoint rewritten to the new last record.
  const log = join(dir.root, 'audit', 'audit.log');
  const kept = readFileSync(log, 'utf8').split('\n').filter(Boolean).slice(0, 3);
  const last = JSON.parse(kept.at(-1)!) as { seq: number; hash: string };
  writeFileSync(log, `${kept.join('\n')}\n`);
  writeFileSync(checkpointPathOf(log), `${JSON.stringify({ seq: last.seq, hash: last.hash }).padEnd(127)}\n`);
  const alone = await runCli(['audit', 'verify', '--config', config]);
  assert.equal(alone.code, 0, 'the log alone cannot tell');
  const anchored = await runCli(['audit', 'verify', '--config', config, '--anchors-from-git', out]);
  assert.equal(anchored.code, 1, anchored.stdout);
  assert.match(anchored.stderr, /the log holds 3 \(lines were removed from the end\)/);
});
