// Issue 2, acceptance 2 and 3: `conductor once` over a mixed handoff directory, then
// re-delivery of an unchanged intent (duplicate, no commit) and of changed content (new commit).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { runCli } from '../support/cli.ts';
import { dropIntent, fastConfig, list, makeDataDir, scaling, writeJsonConfig } from '../support/data-dir.ts';
import { gitLog, gitShow } from '../support/git.ts';

const TARGETS = ['odu-high-phy', 'odu-low-phy', 'cu-cp', 'cu-up', 'ric-xapp', 'smo-agent'];

function statusOf(root: string, stem: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(root, 'status', `${stem}.status.json`), 'utf8')) as Record<string, unknown>;
}

test('once: six good intents commit, three bad ones fail with reasons, the rest is untouched', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  TARGETS.forEach((target, i) => dropIntent(dir.handoff, `intent-${target}.json`, scaling(target, i + 2, { reason: `load ${i}` })));
  dropIntent(dir.handoff, 'intent-malformed.json', '{"intent_type": "scaling", "target": ');
  dropIntent(dir.handoff, 'intent-invalid.json', scaling('Not_A_Label', 500));
  dropIntent(dir.handoff, 'notes.txt', 'not an intent');
  writeFileSync(join(dir.root, 'secret.json'), JSON.stringify(scaling('outside', 1)));
  symlinkSync(join(dir.root, 'secret.json'), join(dir.handoff, 'intent-link.json'));
  const config = writeJsonConfig(dir.root, fastConfig(dir.root));

  const result = await runCli(['once', '--config', config]);

  assert.equal(result.code, 1, result.stderr);
  const processed = list(join(dir.root, 'processed'));
  assert.deepEqual(processed, TARGETS.map((t) => `intent-${t}.json`).sort());
  for (const target of TARGETS) assert.equal(statusOf(dir.root, `intent-${target}`)['status'], 'succeeded');

  const failed = list(join(dir.root, 'failed'));
  assert.deepEqual(failed, [
    'intent-invalid.error.json',
    'intent-invalid.json',
    'intent-link.error.json',
    'intent-link.json',
    'intent-malformed.error.json',
    'intent-malformed.json',
  ]);
  const reason = (stem: string) =>
    JSON.parse(readFileSync(join(dir.root, 'failed', `${stem}.error.json`), 'utf8')) as Record<string, string> & { message: string };
  assert.deepEqual([reason('intent-malformed').stage, reason('intent-malformed').code], ['validate', 'CND_ERR_INTENT_PARSE']);
  assert.deepEqual([reason('intent-invalid').stage, reason('intent-invalid').code], ['validate', 'CND_ERR_INTENT_INVALID']);
  assert.match(reason('intent-invalid').message, /target must be a DNS-1123 label/);
  assert.match(reason('intent-invalid').message, /replicas must be <= 100/);
  assert.deepEqual([reason('intent-link').stage, reason('intent-link').code], ['source', 'CND_ERR_FILE_REJECTED']);
  assert.ok(lstatSync(join(dir.root, 'failed', 'intent-link.json')).isSymbolicLink(), 'the link itself was moved, not its target');
  assert.ok(existsSync(join(dir.root, 'secret.json')), 'the link target is untouched');

  assert.deepEqual(list(dir.handoff), ['notes.txt']);
  assert.equal(readFileSync(join(dir.handoff, 'notes.txt'), 'utf8'), 'not an intent');

  const out = join(dir.root, 'out');
  const commits = gitLog(out);
  assert.equal(commits.length, 6);
  const ids = new Set(commits.map((c) => c.intentId));
  assert.equal(ids.size, 6, 'one trailer per commit, all different');
  for (const [i, target] of TARGETS.entries()) {
    const status = statusOf(dir.root, `intent-${target}`);
    const commit = commits.find((c) => c.intentId === status['intentId']);
    assert.ok(commit, `a commit carries the trailer of ${target}`);
    const kptfile = YAML.parse(gitShow(out, commit.hash, `oran-odu/${target}/Kptfile`)) as Record<string, any>;
    assert.equal(kptfile['apiVersion'], 'kpt.dev/v1');
    assert.equal(kptfile['kind'], 'Kptfile');
    assert.equal(kptfile['metadata'].name, target);
    const deployment = YAML.parse(gitShow(out, commit.hash, `oran-odu/${target}/deployment.yaml`)) as Record<string, any>;
    assert.equal(deployment['apiVersion'], 'apps/v1');
    assert.equal(deployment['kind'], 'Deployment');
    assert.equal(deployment['metadata'].name, target);
    assert.equal(deployment['metadata'].namespace, 'oran-odu');
    assert.equal(deployment['spec'].replicas, i + 2);
    assert.deepEqual(deployment['spec'].selector.matchLabels, { 'app.kubernetes.io/name': target });
    assert.equal(deployment['spec'].template.metadata.labels['app.kubernetes.io/name'], target);
  }
});

test('once: the same intent again is a duplicate with no commit; new content under the same name commits', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const config = writeJsonConfig(dir.root, fastConfig(dir.root));
  const out = join(dir.root, 'out');
  dropIntent(dir.handoff, 'intent-a.json', scaling('cu-cp', 3));
  assert.equal((await runCli(['once', '--config', config])).code, 0);
  assert.equal(gitLog(out).length, 1);

  dropIntent(dir.handoff, 'intent-a.json', scaling('cu-cp', 3));
  const again = await runCli(['once', '--config', config]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(statusOf(dir.root, 'intent-a')['status'], 'duplicate');
  assert.equal(gitLog(out).length, 1, 'no new commit for a duplicate');
  assert.deepEqual(list(join(dir.root, 'processed')), ['intent-a.1.json', 'intent-a.json'], 'a move never overwrites');

  dropIntent(dir.handoff, 'intent-a.json', scaling('cu-cp', 7));
  const changed = await runCli(['once', '--config', config]);
  assert.equal(changed.code, 0, changed.stderr);
  assert.equal(statusOf(dir.root, 'intent-a')['status'], 'succeeded');
  const commits = gitLog(out);
  assert.equal(commits.length, 2);
  const deployment = YAML.parse(gitShow(out, commits[0]!.hash, 'oran-odu/cu-cp/deployment.yaml')) as { spec: { replicas: number } };
  assert.equal(deployment.spec.replicas, 7);
});

test('once: nothing to do exits 0', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const result = await runCli(['once', '--config', writeJsonConfig(dir.root, fastConfig(dir.root))]);
  assert.equal(result.code, 0, result.stderr);
});
