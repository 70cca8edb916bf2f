// Issue 4, dead letters and replay: failed/ entries carry what is needed to retry them, and
// `conductor replay` sends them through the pipeline again under their original intent id —
// so replaying an intent that in fact succeeded is a no-op.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../support/cli.ts';
import { dropIntent, fastConfig, list, makeDataDir, scaling, writeJsonConfig } from '../support/data-dir.ts';
import { gitLog } from '../support/git.ts';

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;

test('replay: fixed causes succeed under the original id; a succeeded intent replays as a duplicate; --since selects', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const strict = writeJsonConfig(dir.root, fastConfig(dir.root, { 'schema-validate': { allowedNamespaces: ['oran-odu'] } }), 'strict.json');
  const relaxed = writeJsonConfig(
    dir.root,
    fastConfig(dir.root, { 'schema-validate': { allowedNamespaces: ['oran-odu', 'oran-cu'] } }),
    'relaxed.json',
  );
  dropIntent(dir.handoff, 'intent-ok.json', scaling('du', 2));
  dropIntent(dir.handoff, 'intent-cu.json', scaling('cu', 3, { namespace: 'oran-cu' }));
  dropIntent(dir.handoff, 'intent-bad.json', scaling('Bad Name', 3));
  assert.equal((await runCli(['once', '--config', strict])).code, 1);
  const failedCu = readJson(join(dir.root, 'failed', 'intent-cu.error.json'));
  assert.equal(failedCu['code'], 'CND_ERR_INTENT_REJECTED');
  assert.equal(gitLog(join(dir.root, 'out')).length, 1);

  // An intent that did succeed, put into failed/ by hand with its id, replays as a no-op.
  const okStatus = readJson(join(dir.root, 'status', 'intent-ok.status.json'));
  copyFileSync(join(dir.root, 'processed', 'intent-ok.json'), join(dir.root, 'failed', 'intent-ok.json'));
  writeFileSync(
    join(dir.root, 'failed', 'intent-ok.error.json'),
    JSON.stringify({ ...failedCu, file: 'intent-ok.json', intentId: okStatus['intentId'] }),
  );

  const none = await runCli(['replay', '--config', relaxed, '--since', new Date(Date.now() + 60_000).toISOString()]);
  assert.equal(none.code, 0, none.stderr);
  assert.match(none.stderr, /replayed 0/);

  const replay = await runCli(['replay', '--config', relaxed, '--all']);
  assert.equal(replay.code, 1, 'the schema-invalid one fails again');
  assert.match(replay.stderr, /replayed 3: 1 succeeded, 1 duplicate, 1 failed again/);

  const cuStatus = readJson(join(dir.root, 'status', 'intent-cu.status.json'));
  assert.equal(cuStatus['status'], 'succeeded');
  assert.equal(cuStatus['intentId'], failedCu['intentId'], 'the original intent id is kept');
  assert.equal(readJson(join(dir.root, 'status', 'intent-ok.status.json'))['status'], 'duplicate');
  const commits = gitLog(join(dir.root, 'out'));
  assert.equal(commits.length, 2, 'only the fixed intent made a new commit');
  assert.ok(commits.some((c) => c.intentId === failedCu['intentId']));

  assert.deepEqual(list(join(dir.root, 'failed')), ['intent-bad.error.json', 'intent-bad.json']);
  assert.ok(existsSync(join(dir.root, 'processed', 'intent-cu.json')));
  const bad = readJson(join(dir.root, 'failed', 'intent-bad.error.json'));
  assert.equal(bad['code'], 'CND_ERR_INTENT_INVALID');

  const usage = await runCli(['replay', '--config', relaxed]);
  assert.equal(usage.code, 2);
});
