// Issue 19 defects 2 and 3, at the git sink: the working tree is never written through a
// symlink, and a namespace or package name that is not one plain path segment is refused by
// the sink itself, whatever ran before it. Canaries beside the data directory prove that
// nothing outside it changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../support/cli.ts';
import { BLUEPRINT, list, scaling, tempDir, writeJsonConfig } from '../support/data-dir.ts';
import { gitLog } from '../support/git.ts';
import { dropIntentAt, initRepo, statusOf, wholeness } from './support.ts';

const CANARY_TEXT = 'canary: untouched\n';

function setUp(t: { after(fn: () => void): void }) {
  const root = tempDir('conductor-gitsink-canary-');
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dataDir = join(root, 'data');
  const handoff = join(dataDir, 'handoff');
  mkdirSync(handoff, { recursive: true });
  const canaryFile = join(root, 'canary.yaml');
  const canaryDir = join(root, 'canary-dir');
  writeFileSync(canaryFile, CANARY_TEXT);
  mkdirSync(canaryDir);
  const canaries = () => ({ file: readFileSync(canaryFile, 'utf8'), dir: readdirSync(canaryDir), root: readdirSync(root).sort() });
  return { root, dataDir, handoff, canaryFile, canaryDir, canaries };
}

/** Only a source and the sink: nothing before the sink checks the path segments. */
const bareConfig = (dataDir: string) => ({
  dataDir,
  logLevel: 'warn',
  plugins: { 'fs-source': { debounceMs: 0 }, 'git-sink': { blueprint: BLUEPRINT } },
});

test('symlinks in the restored history are never written through: canaries unchanged, intents refused', { timeout: 60_000 }, async (t) => {
  const s = setUp(t);
  const out = join(s.dataDir, 'out');
  // A history holding `ns2/t/deployment.yaml -> <outside file>` and `ns3 -> <outside dir>`,
  // checked out into the working tree as a restore does.
  initRepo(out, () => {
    mkdirSync(join(out, 'ns2', 't'), { recursive: true });
    writeFileSync(join(out, 'ns2', 't', 'Kptfile'), 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: t\n');
    symlinkSync(s.canaryFile, join(out, 'ns2', 't', 'deployment.yaml'));
    symlinkSync(s.canaryDir, join(out, 'ns3'));
  });
  const before = s.canaries();
  const commits = gitLog(out).length;
  dropIntentAt(s.handoff, 'intent-ns2.json', scaling('t', 9, { namespace: 'ns2' }), Date.now());
  dropIntentAt(s.handoff, 'intent-ns3.json', scaling('x', 9, { namespace: 'ns3' }), Date.now());
  const run = await runCli(['once', '--config', writeJsonConfig(s.dataDir, bareConfig(s.dataDir))]);

  assert.deepEqual(s.canaries(), before, 'nothing outside the data directory changed');
  assert.equal(run.code, 1, run.stderr);
  for (const stem of ['intent-ns2', 'intent-ns3']) {
    const status = statusOf(s.dataDir, stem);
    assert.equal(status.status, 'failed', stem);
    assert.equal(status.code, 'CND_ERR_SUBMIT_PERMANENT', stem);
    assert.match(status.message ?? '', /symbolic link/, stem);
  }
  assert.equal(gitLog(out).length, commits, 'nothing committed');
});

test('an untracked symlink in the working tree is not followed either', { timeout: 60_000 }, async (t) => {
  const s = setUp(t);
  const out = join(s.dataDir, 'out');
  initRepo(out, () => undefined);
  symlinkSync(s.canaryDir, join(out, 'ns4'));
  const before = s.canaries();
  dropIntentAt(s.handoff, 'intent-ns4.json', scaling('y', 2, { namespace: 'ns4' }), Date.now());
  const run = await runCli(['once', '--config', writeJsonConfig(s.dataDir, bareConfig(s.dataDir))]);
  assert.deepEqual(s.canaries(), before);
  assert.equal(run.code, 1, run.stderr);
  assert.equal(statusOf(s.dataDir, 'intent-ns4').code, 'CND_ERR_SUBMIT_PERMANENT');
  assert.equal(gitLog(out).length, 1, 'nothing committed');
});

test('`..`, `.`, `.git` and other non-segments as namespace or package name are refused by the sink', { timeout: 60_000 }, async (t) => {
  const s = setUp(t);
  const before = s.canaries();
  const cases: [string, unknown][] = [
    ['intent-dotdot.json', scaling('..', 2, { namespace: '..' })],
    ['intent-dotdot-target.json', scaling('..', 2, { namespace: 'ns' })],
    ['intent-dot.json', scaling('.', 2, { namespace: 'ns' })],
    ['intent-git.json', scaling('hooks', 2, { namespace: '.git' })],
    ['intent-slash.json', scaling('x', 2, { namespace: 'a/../..' })],
    ['intent-package.json', scaling('x', 2, { namespace: 'ns', constraints: { kpt_package_name: '..' } })],
  ];
  for (const [name, intent] of cases) dropIntentAt(s.handoff, name, intent, Date.now());
  const run = await runCli(['once', '--config', writeJsonConfig(s.dataDir, bareConfig(s.dataDir))]);
  assert.equal(run.code, 1, run.stderr);
  assert.deepEqual(s.canaries(), before, 'nothing outside the data directory changed');
  assert.deepEqual(
    readdirSync(s.dataDir).filter((n) => ['Kptfile', 'deployment.yaml', 'x', '..'].includes(n)),
    [],
  );
  for (const [name] of cases) {
    const status = statusOf(s.dataDir, name.replace(/\.json$/, ''));
    assert.equal(status.status, 'failed', name);
    // A package name that is no DNS-1123 label is refused as invalid by the core's packageNameOf,
    // which the sink calls; every other bad segment by the sink's own check.
    assert.ok(['CND_ERR_SUBMIT_PERMANENT', 'CND_ERR_INTENT_INVALID'].includes(status.code ?? ''), `${name}: ${status.code}`);
  }
  const out = join(s.dataDir, 'out');
  assert.deepEqual(gitLog(out), [], 'nothing committed');
  assert.deepEqual(list(join(out, '.git', 'hooks')), []);
});

test('a tracked directory replaced by a symlink is made a directory again at start', { timeout: 60_000 }, async (t) => {
  const s = setUp(t);
  const out = join(s.dataDir, 'out');
  const config = writeJsonConfig(s.dataDir, bareConfig(s.dataDir));
  dropIntentAt(s.handoff, 'intent-ns5.json', scaling('x', 2, { namespace: 'ns5' }), Date.now() - 1_000);
  assert.equal((await runCli(['once', '--config', config])).code, 0);
  rmSync(join(out, 'ns5'), { recursive: true });
  symlinkSync(s.canaryDir, join(out, 'ns5'));
  const before = s.canaries();
  dropIntentAt(s.handoff, 'intent-ns5-again.json', scaling('x', 3, { namespace: 'ns5' }), Date.now());
  const run = await runCli(['once', '--config', config]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(s.canaries(), before, 'nothing outside the data directory changed');
  assert.match(readFileSync(join(out, 'ns5', 'x', 'deployment.yaml'), 'utf8'), /replicas: 3\n/);
  assert.deepEqual(wholeness(out), { fsck: '', status: '' });
});
