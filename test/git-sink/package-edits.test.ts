// Issue 18, defects 1 and 8: the git sink changes only the file that holds the Deployment.
// Every other entry of a package people also edit — a subdirectory, a subpackage, a symlink,
// an executable — keeps its blob and its mode, in the commit and in the working tree; and the
// package directory is the one the Kptfile names (`constraints.kpt_package_name`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../support/cli.ts';
import { fastConfig, makeDataDir, scaling, writeJsonConfig } from '../support/data-dir.ts';
import { dropIntentAt, gitIn, initRepo, wholeness } from './support.ts';

const DEPLOYMENT = `# The web front end; scaled by Conductor intents.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: prod
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: registry.example.com/web:1.4.2
`;

function preparePackage(out: string): void {
  const web = join(out, 'prod', 'web');
  mkdirSync(join(web, 'config'), { recursive: true });
  mkdirSync(join(web, 'db'), { recursive: true });
  writeFileSync(join(web, 'Kptfile'), 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: web\n');
  writeFileSync(join(web, 'deployment.yaml'), DEPLOYMENT);
  writeFileSync(join(web, 'config', 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\ndata:\n  mode: live\n');
  writeFileSync(join(web, 'db', 'Kptfile'), 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: db\n');
  writeFileSync(join(web, 'db', 'statefulset.yaml'), 'apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n');
  symlinkSync('deployment.yaml', join(web, 'current.yaml'));
  writeFileSync(join(web, 'hook.sh'), '#!/bin/sh\necho deployed\n');
  chmodSync(join(web, 'hook.sh'), 0o755);
}

/** Inode, mode and modification time of each path: what a rewrite of the file would change. */
function identities(dir: string, paths: string[]): Record<string, string> {
  return Object.fromEntries(
    paths.map((p) => {
      const s = lstatSync(join(dir, p));
      return [p, `${s.ino}:${s.mode}:${s.mtimeMs}`];
    }),
  );
}

test('an intent changes only the Deployment file of a package: other entries keep blob and mode', { timeout: 60_000 }, async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const out = join(dir.root, 'out');
  initRepo(out, () => preparePackage(out));
  const treeBefore = gitIn(out, 'ls-tree', '-r', 'HEAD', 'prod/web');
  const untouched = ['prod/web/Kptfile', 'prod/web/config/cm.yaml', 'prod/web/db/Kptfile', 'prod/web/current.yaml', 'prod/web/hook.sh'];
  const before = identities(out, untouched);

  dropIntentAt(dir.handoff, 'intent-scale-web.json', { ...scaling('web', 7), namespace: 'prod' }, Date.now());
  const run = await runCli(['once', '--config', writeJsonConfig(dir.root, fastConfig(dir.root))]);
  assert.equal(run.code, 0, run.stderr);

  assert.equal(gitIn(out, 'diff', '--name-status', 'HEAD~1').trim(), 'M\tprod/web/deployment.yaml');
  const diff = gitIn(out, 'diff', '--unified=0', 'HEAD~1', 'HEAD');
  assert.doesNotMatch(diff, /mode/, 'no mode change');
  const changedLines = diff.split('\n').filter((l) => /^[-+][^-+]/.test(l));
  assert.deepEqual(changedLines, ['-  replicas: 2', '+  replicas: 7'], 'a one-line diff');
  const treeAfter = gitIn(out, 'ls-tree', '-r', 'HEAD', 'prod/web');
  const withoutDeployment = (tree: string) => tree.split('\n').filter((l) => !l.endsWith('\tprod/web/deployment.yaml'));
  assert.deepEqual(withoutDeployment(treeAfter), withoutDeployment(treeBefore), 'every other entry keeps its oid and mode');

  assert.deepEqual(identities(out, untouched), before, 'the working tree write touched only the changed file');
  assert.equal(readFileSync(join(out, 'prod/web/deployment.yaml'), 'utf8'), DEPLOYMENT.replace('replicas: 2', 'replicas: 7'));
  assert.deepEqual(wholeness(out), { fsck: '', status: '' });
});

test('the package directory is the name the Kptfile gives (constraints.kpt_package_name)', { timeout: 60_000 }, async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const intent = { ...scaling('edge-du', 3), constraints: { kpt_package_name: 'edge-du-pkg' } };
  dropIntentAt(dir.handoff, 'intent-named.json', intent, Date.now());
  const run = await runCli(['once', '--config', writeJsonConfig(dir.root, fastConfig(dir.root))]);
  assert.equal(run.code, 0, run.stderr);
  const out = join(dir.root, 'out');
  const files = gitIn(out, 'ls-tree', '-r', '--name-only', 'HEAD').trim().split('\n');
  assert.deepEqual(files, ['oran-odu/edge-du-pkg/Kptfile', 'oran-odu/edge-du-pkg/deployment.yaml']);
  assert.match(gitIn(out, 'show', 'HEAD:oran-odu/edge-du-pkg/Kptfile'), /^ {2}name: edge-du-pkg$/m);
});
