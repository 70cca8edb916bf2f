// The two small pieces behind blueprints, on their own: specialising a cloned blueprint for a
// target changes only its Deployment's name and namespace (every other byte stays), and the
// sink's memory of the blueprint shares one read between concurrent intents and keeps no failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blueprintDeployment, specialiseBlueprint } from '../../plugins/porch-sink/blueprint.ts';
import { BlueprintCache } from '../../plugins/porch-sink/flow.ts';
import { scaling } from '../support/data-dir.ts';

const DEPLOYMENT = `# generic app
apiVersion: apps/v1
kind: Deployment
metadata:
  name: "app" # renamed per target
  namespace: default
spec:
  replicas: 1
  template:
    spec:
      containers:
      - {name: app, image: registry.example/app:1.0.0}
`;

test('specialising renames the Deployment and sets its namespace in place; every other byte stays', () => {
  const files = { Kptfile: 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: x\n', 'app.yaml': DEPLOYMENT };
  const result = specialiseBlueprint(files, scaling('du-3', 2));
  assert.ok(result.ok);
  assert.equal(result.files['Kptfile'], files.Kptfile);
  assert.equal(
    result.files['app.yaml'],
    DEPLOYMENT.replace('name: "app" # renamed', 'name: du-3 # renamed').replace('namespace: default', 'namespace: oran-odu'),
  );
  // Specialised once, it is the target's: a second pass changes nothing.
  const again = specialiseBlueprint(result.files, scaling('du-3', 2));
  assert.ok(again.ok);
  assert.equal(again.files['app.yaml'], result.files['app.yaml']);
});

test('a Deployment without a namespace gains the intent’s; one named like the target is the one chosen among several', () => {
  const bare = DEPLOYMENT.replace('  namespace: default\n', '');
  const result = specialiseBlueprint({ 'app.yaml': bare }, scaling('du-4', 2));
  assert.ok(result.ok);
  assert.match(result.files['app.yaml']!, /^# generic app\n/);
  assert.match(result.files['app.yaml']!, /name: du-4 # renamed per target\n {2}namespace: oran-odu\n/);

  const two = `${DEPLOYMENT}---\n${DEPLOYMENT.replace('"app"', 'du-5').replace('default', 'oran-odu')}`;
  assert.deepEqual(blueprintDeployment({ 'app.yaml': two }, scaling('du-5', 1)), { ok: true, file: 'app.yaml', index: 1 });
  assert.deepEqual(blueprintDeployment({ 'app.yaml': two }, scaling('du-6', 1)), {
    ok: false,
    reason: 'it holds 2 Deployments and none is named du-6',
  });
});

test('the blueprint cache: one read for concurrent intents, none kept after a failure, none kept with no time to live', async () => {
  const blueprint = { repository: 'blueprints', package: 'app' };
  let reads = 0;
  const load = async () => {
    reads += 1;
    return { name: `blueprints.app.v${reads}`, files: {} };
  };
  const cache = new BlueprintCache(60_000);
  const [a, b] = await Promise.all([cache.resolve('ns', blueprint, load), cache.resolve('ns', blueprint, load)]);
  assert.equal(reads, 1);
  assert.equal(a, b);
  assert.equal(
    (await cache.resolve('ns', { ...blueprint, revision: 2 }, load))?.name,
    'blueprints.app.v2',
    'another revision is another entry',
  );

  const failing = new BlueprintCache(60_000);
  await assert.rejects(
    failing.resolve('ns', blueprint, () => Promise.reject(new Error('503'))),
    /503/,
  );
  assert.equal((await failing.resolve('ns', blueprint, load))?.name, 'blueprints.app.v3', 'a failed read is read again');

  const none = new BlueprintCache(0);
  await none.resolve('ns', blueprint, load);
  await none.resolve('ns', blueprint, load);
  assert.equal(reads, 5);
});
