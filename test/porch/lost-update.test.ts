// Issue 18 defect 3 (acceptance 2): a Draft (or Proposed revision) copied from a revision that is
// no longer the latest Published one is never published as it is — that would undo whatever was
// published since. The flow replaces it by a fresh copy of the latest and applies the intent's
// replicas there. Shown on the interrupted state itself (a Draft of the intent copied from v1,
// then another writer publishes v2 with another image), and with two sink replicas working the
// same intents against a Porch that fails a quarter of the requests while another writer
// publishes at exact points of their flows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import YAML from 'yaml';
import { INTENT_ID_ANNOTATION, applyIntentToPackage, type Intent } from '../../core/index.ts';
import { intentIdOf } from '../../core/intent/identity.ts';
import { dropIntent, scaling } from '../support/data-dir.ts';
import { LATEST_REVISION_LABEL, type PorchSim, type WriteRecord } from '../support/porch-sim/index.ts';
import {
  NAMESPACE,
  REPOSITORY,
  buildConductor,
  dataDirectory,
  failedReasons,
  filesIn,
  porchConfig,
  replicasIn,
  runOnce,
  startSim,
} from './support/harness.ts';

const QUICK_RETRY = { retry: { maxAttempts: 0, initialDelayMs: 1, maxDelayMs: 50, budgetMs: 60_000 } };
const OURS = 'registry.example/web:1.0';
const THEIRS = 'registry.example/web:2.0';

function packageFiles(target: string, image: string, replicas = 2): Record<string, string> {
  return {
    Kptfile: `apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: ${target}\ninfo:\n  description: ${target}\n`,
    'deployment.yaml': [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      `  name: ${target}`,
      '  namespace: oran-odu',
      'spec:',
      `  replicas: ${replicas}`,
      '  template:',
      '    spec:',
      '      containers:',
      `      - name: ${target}`,
      `        image: ${image}`,
      '',
    ].join('\n'),
  };
}

function imageIn(files: Record<string, string>, target: string): unknown {
  type Deployment = { metadata: { name: string }; spec: { template: { spec: { containers: { image?: string }[] } } } };
  const doc = YAML.parse(files['deployment.yaml']!) as Deployment;
  assert.equal(doc.metadata.name, target);
  return doc.spec.template.spec.containers[0]?.image;
}

/** The highest Published revision of a package, as the server labels it. */
function latestOf(sim: PorchSim, packageName: string) {
  const published = sim.listRevisions({ packageName, lifecycle: 'Published' });
  const latest = published.filter((r) => r.metadata.labels?.[LATEST_REVISION_LABEL] === 'true');
  assert.equal(latest.length, 1, `one latest revision of ${packageName}`);
  return latest[0]!;
}

/** Another writer publishes a new revision of the package: a copy of its latest, with another image. */
function publishAsAnotherWriter(sim: PorchSim, packageName: string, image: string): string {
  const latest = latestOf(sim, packageName);
  const files = { ...sim.getResources(latest.metadata.name, NAMESPACE)! };
  files['deployment.yaml'] = files['deployment.yaml']!.replace(/image: \S+/, `image: ${image}`);
  const workspaceName = `other-writer-${(latest.spec.revision ?? 0) + 1}`;
  const tasks = [{ type: 'edit', edit: { sourceRef: { name: latest.metadata.name } } }];
  sim.seed({ packages: [{ repository: REPOSITORY, namespace: NAMESPACE, packageName, workspaceName, resources: files, tasks }] });
  return workspaceName;
}

for (const lifecycle of ['Draft', 'Proposed'] as const) {
  test(`a resumed ${lifecycle} copied from v1 after v2 was published: v3 has v2's image and the intent's replicas`, async (t) => {
    const target = 'web';
    const file = 'intent-web.json';
    const intent = scaling(target, 6);
    const intentId = intentIdOf(file, intent as unknown as Record<string, unknown>);
    const v1 = packageFiles(target, OURS);
    const sim = await startSim({ packages: [{ repository: REPOSITORY, namespace: NAMESPACE, packageName: target, resources: v1 }] });
    const dir = dataDirectory();
    t.after(async () => {
      await sim.close();
      dir.cleanup();
    });
    const v1Name = latestOf(sim, target).metadata.name;
    // The state an interrupted submission leaves: its revision, copied from v1, holding the intent.
    sim.seed({
      packages: [
        {
          repository: REPOSITORY,
          namespace: NAMESPACE,
          packageName: target,
          workspaceName: `intent-${intentId}`,
          lifecycle,
          resources: applyIntentToPackage(v1, intent, intentId).files,
          tasks: [{ type: 'edit', edit: { sourceRef: { name: v1Name } } }],
          annotations: { [INTENT_ID_ANNOTATION]: intentId },
        },
      ],
    });
    publishAsAnotherWriter(sim, target, THEIRS);

    dropIntent(dir.handoff, file, intent);
    await runOnce(porchConfig(dir.root, { server: sim.url, approve: true }, QUICK_RETRY));

    assert.deepEqual(failedReasons(dir.root), []);
    const latest = latestOf(sim, target);
    assert.equal(latest.spec.workspaceName, `intent-${intentId}`, 'the intent made the latest revision');
    assert.equal(latest.spec.revision, 3);
    const files = sim.getResources(latest.metadata.name, NAMESPACE)!;
    assert.equal(imageIn(files, target), THEIRS, 'the other writer’s image survives');
    assert.equal(replicasIn(files, target), 6, 'the intent’s replicas');
    const v2 = `${REPOSITORY}.${target}.other-writer-2`;
    assert.deepEqual(latest.spec.tasks, [{ type: 'edit', edit: { sourceRef: { name: v2 } } }], 'a copy of v2, not v1');
    const operations = sim.writes().map((w) => w.operation);
    assert.deepEqual(
      operations,
      ['delete', 'create', 'update-resources', 'update', 'approval'],
      'the stale revision was replaced, never published',
    );
  });
}

test(
  'two sink replicas on the same intents, 25 % faults, another writer publishing mid-flow: no lost update',
  { timeout: 180_000 },
  async (t) => {
    const targets = ['web-0', 'web-1', 'web-2', 'web-3', 'web-4', 'web-5'];
    const sim = await startSim({
      seed: 18,
      // A quarter of all requests fail: 10 % 5xx, 5 % 429, 10 % of writes applied with the answer lost.
      faults: { error5xxRate: 0.1, error5xxStatus: 503, rate429: 0.05, retryAfterSeconds: 1, applyThenFailRate: 0.1 },
      packages: targets.map((packageName) => ({
        repository: REPOSITORY,
        namespace: NAMESPACE,
        packageName,
        resources: packageFiles(packageName, OURS),
      })),
    });
    const replicas = [dataDirectory(), dataDirectory()];
    t.after(async () => {
      await sim.close();
      for (const dir of replicas) dir.cleanup();
    });
    const intents = new Map<string, { intent: Intent; intentId: string }>();
    for (const [i, target] of targets.entries()) {
      const file = `intent-${target}.json`;
      const intent = scaling(target, 3 + i);
      intents.set(target, { intent, intentId: intentIdOf(file, intent as unknown as Record<string, unknown>) });
      // Both replicas hold the intent (a lease that ran out, a ledger that forgot): the hardest case.
      for (const dir of replicas) dropIntent(dir.handoff, file, intent);
    }
    // The other writer publishes while the intent's own revision is a fresh Draft, a Draft with
    // the intent's resources, or Proposed (the first, second or third write to its workspace).
    const writesSeen = new Map<string, number>();
    const published = new Map<string, string>();
    const stop = sim.onWrite((write: WriteRecord) => {
      const entry = intents.get(write.packageName);
      if (entry === undefined || write.workspaceName !== `intent-${entry.intentId}` || published.has(write.packageName)) return;
      const seen = (writesSeen.get(write.packageName) ?? 0) + 1;
      writesSeen.set(write.packageName, seen);
      if (seen === (targets.indexOf(write.packageName) % 3) + 1 && write.operation !== 'approval') {
        published.set(write.packageName, publishAsAnotherWriter(sim, write.packageName, THEIRS));
      }
    });
    t.after(stop);

    const config = (root: string) => porchConfig(root, { server: sim.url, approve: true }, QUICK_RETRY);
    const conductors = await Promise.all(replicas.map((dir) => buildConductor(config(dir.root))));
    await Promise.all(conductors.map((c) => c.start()));
    await Promise.all(conductors.map((c) => c.idle()));
    await Promise.all(conductors.map((c) => c.stop()));
    const replaced = sim.writeCount({ operation: 'delete' });
    t.diagnostic(`faults injected: ${JSON.stringify(sim.faults.counts())}; stale revisions replaced: ${replaced}`);

    for (const dir of replicas) {
      assert.deepEqual(failedReasons(dir.root), [], 'nothing failed');
      assert.equal(filesIn(dir.root, 'processed').length, targets.length, 'every intent settled on both replicas');
    }
    const counts = sim.faults.counts();
    assert.ok(counts['server-error'] > 0 && counts['rate-limit'] > 0 && counts['apply-then-fail'] > 0, 'every kind of fault was injected');
    for (const target of targets) {
      const { intent, intentId } = intents.get(target)!;
      assert.ok(published.has(target), `the other writer published ${target} while its intent was in flight`);
      const latest = latestOf(sim, target);
      const files = sim.getResources(latest.metadata.name, NAMESPACE)!;
      assert.equal(imageIn(files, target), THEIRS, `${target}: the other writer’s image survives`);
      assert.equal(replicasIn(files, target), intent.replicas, `${target}: the intent’s replicas`);
      const mine = sim.listRevisions({ packageName: target, workspaceName: `intent-${intentId}` });
      assert.equal(mine.length, 1, `${target}: one revision for the intent`);
      assert.equal(mine[0]!.spec.lifecycle, 'Published');
    }
  },
);
