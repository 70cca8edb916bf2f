// Issue 18, acceptance 5: a new target with a blueprint configured becomes a package whose
// Deployment passes the Kubernetes schema with its image; without a blueprint the intent is
// refused (CND_ERR_BLUEPRINT, failed/, exit 1) and nothing is committed. A blueprint that
// cannot be used stops the start, naming the option. And (defect 2) an existing package whose
// Deployment has no spec.replicas gains exactly one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { runCli } from '../support/cli.ts';
import { BLUEPRINT, dropIntent, fastConfig, list, makeDataDir, scaling, writeJsonConfig } from '../support/data-dir.ts';
import { gitLog } from '../support/git.ts';

const git = (repo: string, ...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' });

/** The path of each committed file, at HEAD. */
const committedFiles = (repo: string) => git(repo, 'ls-tree', '-r', '--name-only', 'HEAD').split('\n').filter(Boolean);

function failure(root: string, stem: string): Record<string, string> {
  return JSON.parse(readFileSync(join(root, 'failed', `${stem}.error.json`), 'utf8')) as Record<string, string>;
}

test('with the blueprint: a new target is a schema-valid Deployment with an image, named like its package', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  dropIntent(dir.handoff, 'intent-odu.json', scaling('odu-high-phy', 4));
  dropIntent(dir.handoff, 'intent-cu.json', scaling('cu-cp', 2, { constraints: { kpt_package_name: 'cu-cp-pkg' } }));
  const config = writeJsonConfig(dir.root, fastConfig(dir.root));

  const result = await runCli(['once', '--config', config]);

  assert.equal(result.code, 0, result.stderr);
  const out = join(dir.root, 'out');
  const files = committedFiles(out);
  const shipped = readFileSync(join(BLUEPRINT, 'deployment.yaml'), 'utf8');
  for (const [target, replicas, packageName] of [
    ['odu-high-phy', 4, 'odu-high-phy'],
    ['cu-cp', 2, 'cu-cp-pkg'],
  ] as const) {
    const named = (f: string) => (YAML.parse(git(out, 'show', `HEAD:${f}`)) as { metadata: { name: string } }).metadata.name === target;
    const deploymentFile = files.find((f) => f.endsWith('/deployment.yaml') && named(f));
    assert.ok(deploymentFile, `a deployment.yaml for ${target} in ${files.join(', ')}`);
    const text = git(out, 'show', `HEAD:${deploymentFile}`);
    const deployment = YAML.parse(text) as Record<string, any>;
    new Deployment(deployment).validate();
    assert.equal(deployment['metadata'].namespace, 'oran-odu');
    assert.equal(deployment['spec'].replicas, replicas);
    assert.deepEqual(deployment['spec'].selector.matchLabels, { 'app.kubernetes.io/name': target });
    const container = deployment['spec'].template.spec.containers[0];
    assert.equal(container.image, (YAML.parse(shipped) as any).spec.template.spec.containers[0].image);
    assert.ok(container.image.length > 0);
    assert.equal(deployment['metadata'].annotations?.['conductor.nephio.org/intent-id'], undefined, 'the trailer is the record');
    // The comments and layout of the blueprint come along.
    assert.ok(text.startsWith(shipped.split('\n')[0]!), 'the blueprint header is kept');
    const kptfile = YAML.parse(git(out, 'show', `HEAD:${deploymentFile.replace(/deployment\.yaml$/, 'Kptfile')}`)) as Record<string, any>;
    assert.equal(kptfile['metadata'].name, packageName);
  }
  // The next intent for a created target changes one line of its Deployment.
  const before = gitLog(out)[0]!.hash;
  dropIntent(dir.handoff, 'intent-odu-2.json', scaling('odu-high-phy', 6));
  assert.equal((await runCli(['once', '--config', config])).code, 0);
  const diff = git(out, 'diff', '--numstat', before, 'HEAD').trim().split('\n');
  assert.equal(diff.length, 1, diff.join('\n'));
  assert.match(diff[0]!, /^1\t1\t.*deployment\.yaml$/);
});

test('without a blueprint: a new target is refused with CND_ERR_BLUEPRINT (exit 1, failed/), an existing one still commits', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  // Packages made earlier (with the blueprint), then the blueprint is taken out of the config.
  const known = Array.from({ length: 7 }, (_, i) => `known-${i}`);
  for (const target of known) dropIntent(dir.handoff, `intent-${target}.json`, scaling(target, 1));
  assert.equal((await runCli(['once', '--config', writeJsonConfig(dir.root, fastConfig(dir.root))])).code, 0);
  const out = join(dir.root, 'out');
  const commitsBefore = gitLog(out).length;
  // Grouped commits: the refused intent must not take the others of its group down with it.
  const config = writeJsonConfig(dir.root, { ...fastConfig(dir.root, { 'git-sink': { maxIntentsPerCommit: 8 } }), concurrency: 8 });
  dropIntent(dir.handoff, 'intent-new.json', scaling('brand-new', 3));
  for (const target of known) dropIntent(dir.handoff, `intent-${target}-2.json`, scaling(target, 5));

  const result = await runCli(['once', '--config', config]);

  assert.equal(result.code, 1, result.stderr);
  assert.deepEqual(list(join(dir.root, 'failed')), ['intent-new.error.json', 'intent-new.json']);
  const reason = failure(dir.root, 'intent-new');
  assert.equal(reason['code'], 'CND_ERR_BLUEPRINT');
  assert.equal(reason['stage'], 'submit');
  assert.match(reason['message']!, /no package for oran-odu\/brand-new and no blueprint.*set plugins\.git-sink\.blueprint/);
  for (const target of known) assert.ok(list(join(dir.root, 'processed')).includes(`intent-${target}-2.json`), target);
  const commits = gitLog(out).slice(0, gitLog(out).length - commitsBefore);
  assert.equal(commits.flatMap((c) => c.intentIds).length, known.length, 'each known target committed once; the new one did not');
  assert.ok(!committedFiles(out).some((f) => f.includes('brand-new')));
});

test('a blueprint that is no usable package stops the start, naming the option; a relative path starts at the config file', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  dropIntent(dir.handoff, 'intent-a.json', scaling('a', 1));
  const run = (blueprint: string) =>
    runCli(['once', '--config', writeJsonConfig(dir.root, fastConfig(dir.root, { 'git-sink': { blueprint } }))]);

  const missing = await run('no-such-dir');
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /plugins\.git-sink\.blueprint: .*no-such-dir: is not a directory/);

  const noDeployment = join(dir.root, 'bp-empty');
  mkdirSync(noDeployment);
  writeFileSync(join(noDeployment, 'Kptfile'), 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: x\n');
  writeFileSync(join(noDeployment, 'svc.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: x}\n');
  const refused = await run('bp-empty');
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /plugins\.git-sink\.blueprint: .*bp-empty: needs exactly one Deployment/);
  assert.deepEqual(list(dir.handoff), ['intent-a.json'], 'nothing was processed');

  // Relative to the config file's directory (dir.root), whatever the working directory.
  cpSync(BLUEPRINT, join(dir.root, 'my-blueprint'), { recursive: true });
  const ok = await run('my-blueprint');
  assert.equal(ok.code, 0, ok.stderr);
});

test('an existing HPA-style package (no spec.replicas) gains exactly one line in git', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const out = join(dir.root, 'out');
  const pkg = join(out, 'shop', 'api');
  mkdirSync(pkg, { recursive: true });
  const deployment = [
    '# api: scaled by its HorizontalPodAutoscaler until now',
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata: {name: api, namespace: shop, labels: {app: api}}',
    'spec:',
    '    selector:',
    '        matchLabels: {app: api}',
    '    template:',
    '        metadata: {labels: {app: api}}',
    '        spec:',
    '            containers:',
    '            -   name: api',
    '                image: "registry.example/api:2.1"',
    '---',
    'apiVersion: autoscaling/v2',
    'kind: HorizontalPodAutoscaler',
    'metadata: {name: api, namespace: shop}',
    'spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}, maxReplicas: 10}',
    '',
  ].join('\n');
  writeFileSync(join(pkg, 'Kptfile'), 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: api\n');
  writeFileSync(join(pkg, 'deployment.yaml'), deployment);
  git(dir.root, 'init', '--quiet', '--initial-branch', 'main', out);
  git(out, 'add', '.');
  git(out, '-c', 'user.name=Shop team', '-c', 'user.email=shop@example.com', 'commit', '--quiet', '-m', 'api package');
  dropIntent(dir.handoff, 'intent-api.json', scaling('api', 3, { namespace: 'shop' }));

  const result = await runCli(['once', '--config', writeJsonConfig(dir.root, fastConfig(dir.root))]);

  assert.equal(result.code, 0, result.stderr);
  assert.equal(git(out, 'diff', '--numstat', 'HEAD~1', 'HEAD'), '1\t0\tshop/api/deployment.yaml\n');
  const expected = deployment.replace('spec:\n    selector', 'spec:\n    replicas: 3\n    selector');
  assert.equal(git(out, 'show', 'HEAD:shop/api/deployment.yaml'), expected);
});
