// Issue 18 defect 6 (acceptance 5), the Porch side: a new target's package is a clone of a
// configured blueprint, as Nephio makes packages (docs/porch.md §Creating): the blueprint's
// files with its upstream recorded in the Kptfile, its Deployment taking the target's name and
// the intent's replicas, its image kept — so the package can be applied. Without a blueprint a
// new target is refused (CND_ERR_BLUEPRINT, `once` exits 1), and so is a blueprint that cannot
// give the target a Deployment with an image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { intentIdOf } from '../../core/intent/identity.ts';
import { runCli } from '../support/cli.ts';
import { dropIntent, scaling, writeJsonConfig } from '../support/data-dir.ts';
import {
  BLUEPRINT,
  BLUEPRINT_IMAGE,
  BLUEPRINT_PACKAGE,
  BLUEPRINT_REPOSITORY,
  NAMESPACE,
  REPOSITORY,
  blueprintResources,
  dataDirectory,
  failedReasons,
  filesIn,
  porchConfig,
  runOnce,
  startSim,
} from './support/harness.ts';

interface DeploymentJson {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: { replicas?: number; template: { spec: { containers: { name: string; image?: string }[] } } };
}

test('a new target with a blueprint: a Published clone whose Deployment has the blueprint’s image and the intent’s replicas', async (t) => {
  const sim = await startSim();
  const dir = dataDirectory();
  t.after(async () => {
    await sim.close();
    dir.cleanup();
  });
  const [blueprint] = sim.listRevisions({ repository: BLUEPRINT_REPOSITORY, packageName: BLUEPRINT_PACKAGE });
  const file = 'intent-du-7.json';
  const intent = scaling('du-7', 4);
  const intentId = intentIdOf(file, intent as unknown as Record<string, unknown>);
  dropIntent(dir.handoff, file, intent);
  await runOnce(porchConfig(dir.root, { server: sim.url, approve: true }));

  assert.deepEqual(failedReasons(dir.root), []);
  const [mine] = sim.listRevisions({ repository: REPOSITORY, packageName: 'du-7', workspaceName: `intent-${intentId}` });
  assert.equal(mine?.spec.lifecycle, 'Published');
  assert.equal(mine.spec.revision, 1);
  assert.deepEqual(mine.spec.tasks, [{ type: 'clone', clone: { upstreamRef: { upstreamRef: { name: blueprint!.metadata.name } } } }]);
  // Porch records the upstream in the Kptfile and surfaces its lock on the revision.
  assert.equal((mine.status.upstreamLock.git as { directory?: string } | undefined)?.directory, BLUEPRINT_PACKAGE);
  const files = sim.getResources(mine.metadata.name, NAMESPACE)!;
  type Kptfile = { metadata: { name: string }; upstream?: { type: string }; upstreamLock?: { git?: { commit?: string } } };
  const kptfile = YAML.parse(files['Kptfile']!) as Kptfile;
  assert.equal(kptfile.metadata.name, 'du-7');
  assert.equal(kptfile.upstream?.type, 'git');
  assert.equal(kptfile.upstreamLock?.git?.commit, blueprint!.metadata.resourceVersion);

  const deployment = YAML.parse(files['deployment.yaml']!) as DeploymentJson;
  assert.equal(deployment.metadata.name, 'du-7', 'the blueprint’s Deployment became the target’s');
  assert.equal(deployment.metadata.namespace, 'oran-odu');
  assert.equal(deployment.spec.replicas, 4);
  assert.equal(deployment.spec.template.spec.containers[0]?.image, BLUEPRINT_IMAGE);
  assert.doesNotThrow(() => new Deployment(deployment as never).validate(), 'the Deployment passes the Kubernetes schema');
  const expected = blueprintResources()
    ['deployment.yaml']!.replace('  name: app\n', '  name: du-7\n  namespace: oran-odu\n')
    .replace('replicas: 1', 'replicas: 4');
  assert.equal(files['deployment.yaml'], expected, 'the blueprint’s text with the name, the namespace and the replicas changed');

  // The next intent for the target copies that revision and changes only its replicas.
  const next = scaling('du-7', 9);
  dropIntent(dir.handoff, 'intent-du-7-b.json', next);
  await runOnce(porchConfig(dir.root, { server: sim.url, approve: true }));
  assert.deepEqual(failedReasons(dir.root), []);
  const latest = sim.listRevisions({ packageName: 'du-7', lifecycle: 'Published' }).find((r) => r.spec.revision === 2)!;
  assert.equal(latest.spec.tasks?.[0]?.['type'], 'edit');
  const after = sim.getResources(latest.metadata.name, NAMESPACE)!['deployment.yaml']!;
  assert.equal(after, files['deployment.yaml']!.replace('replicas: 4', 'replicas: 9'), 'one line changed');
});

test('without a blueprint a new target is refused: CND_ERR_BLUEPRINT in failed/, `once` exits 1, nothing created', async (t) => {
  const sim = await startSim();
  const dir = dataDirectory();
  t.after(async () => {
    await sim.close();
    dir.cleanup();
  });
  dropIntent(dir.handoff, 'intent-du-8.json', scaling('du-8', 2));
  const config = writeJsonConfig(dir.root, porchConfig(dir.root, { server: sim.url, approve: true, blueprint: undefined }));
  const run = await runCli(['once', '--config', config]);
  assert.equal(run.code, 1, `once exits 1: ${run.stderr}${run.stdout.slice(-2_000)}`);
  assert.deepEqual(filesIn(dir.root, 'failed'), ['intent-du-8.json']);
  const record = JSON.parse(readFileSync(join(dir.root, 'failed', 'intent-du-8.error.json'), 'utf8')) as { code: string; message: string };
  assert.equal(record.code, 'CND_ERR_BLUEPRINT');
  assert.match(record.message, /deployments\/du-8 has no package yet, and no blueprint is configured/);
  assert.equal(sim.writeCount(), 0, 'nothing was created');
});

test('a blueprint that cannot serve is refused before anything is created: no Published revision, no Deployment, no image', async (t) => {
  const imageless = blueprintResources();
  imageless['deployment.yaml'] = imageless['deployment.yaml']!.replace(/\n\s+image: .*/, '');
  const cases = [
    {
      label: 'a pinned revision that does not exist',
      blueprint: { ...BLUEPRINT, revision: 7 },
      resources: undefined,
      message: /blueprint blueprints\/app-blueprint has no Published revision 7/,
    },
    {
      label: 'a blueprint package that does not exist',
      blueprint: { ...BLUEPRINT, package: 'nothing-here' },
      resources: undefined,
      message: /blueprint blueprints\/nothing-here has no Published revision in namespace porch-demo to create deployments\/du-9/,
    },
    {
      label: 'a blueprint without a Deployment',
      blueprint: { ...BLUEPRINT, package: 'bare' },
      resources: { Kptfile: blueprintResources().Kptfile! },
      message: /cannot create deployments\/du-9: it holds no Deployment/,
    },
    {
      label: 'a blueprint whose Deployment has no image',
      blueprint: { ...BLUEPRINT, package: 'imageless' },
      resources: imageless,
      message: /container\(s\) without an image: app/,
    },
  ];
  for (const c of cases) {
    const blueprint = { repository: BLUEPRINT_REPOSITORY, namespace: NAMESPACE, packageName: c.blueprint.package };
    const seeded = c.resources === undefined ? [] : [{ ...blueprint, resources: c.resources }];
    const sim = await startSim({ packages: seeded });
    const dir = dataDirectory();
    t.after(async () => {
      await sim.close();
      dir.cleanup();
    });
    dropIntent(dir.handoff, 'intent-du-9.json', scaling('du-9', 2));
    await runOnce(porchConfig(dir.root, { server: sim.url, approve: true, blueprint: c.blueprint }));
    assert.deepEqual(filesIn(dir.root, 'failed'), ['intent-du-9.json'], c.label);
    const record = JSON.parse(failedReasons(dir.root)[0]!) as { code: string; message: string };
    assert.equal(record.code, 'CND_ERR_BLUEPRINT', c.label);
    assert.match(record.message, c.message, c.label);
    assert.equal(sim.writeCount(), 0, `${c.label}: nothing was created`);
  }
});

test('without a blueprint, a package that exists but has nothing Published yet is no new target: the intent waits', async (t) => {
  const kptfile = blueprintResources().Kptfile!.replace(BLUEPRINT_PACKAGE, 'du-6');
  const byHand = {
    repository: REPOSITORY,
    namespace: NAMESPACE,
    packageName: 'du-6',
    workspaceName: 'by-hand',
    lifecycle: 'Draft' as const,
  };
  const sim = await startSim({ packages: [{ ...byHand, resources: { Kptfile: kptfile } }] });
  const dir = dataDirectory();
  t.after(async () => {
    await sim.close();
    dir.cleanup();
  });
  dropIntent(dir.handoff, 'intent-du-6.json', scaling('du-6', 2));
  const giveUpSoon = { retry: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 5, budgetMs: 2_000 } };
  await runOnce(porchConfig(dir.root, { server: sim.url, approve: true, blueprint: undefined }, giveUpSoon));
  assert.deepEqual(filesIn(dir.root, 'failed'), []);
  assert.deepEqual(filesIn(dir.root, 'handoff'), ['intent-du-6.json'], 'kept for later');
  assert.equal(sim.writeCount(), 0);
});
