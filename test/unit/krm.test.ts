// KRM rendering: a valid package for a new intent, and a change of exactly one value in an
// existing package (comments, order and other files kept byte for byte).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import YAML from 'yaml';
import { applyIntentToPackage, renderPackage, type Intent } from '../../core/index.ts';

const intent: Intent = { intent_type: 'scaling', target: 'odu-high-phy', namespace: 'oran-odu', replicas: 5 };

test('renderPackage: a kpt.dev/v1 Kptfile and an apps/v1 Deployment with the replicas', () => {
  const files = renderPackage(intent);
  assert.deepEqual(Object.keys(files).sort(), ['Kptfile', 'deployment.yaml']);
  const kptfile = YAML.parse(files['Kptfile']!) as Record<string, any>;
  assert.equal(kptfile['apiVersion'], 'kpt.dev/v1');
  assert.equal(kptfile['metadata'].name, 'odu-high-phy');
  const deployment = YAML.parse(files['deployment.yaml']!) as Record<string, any>;
  assert.equal(deployment['spec'].replicas, 5);
  assert.ok(!files['deployment.yaml']!.includes('&'), 'no YAML anchors');
  assert.equal(renderPackage({ ...intent, constraints: { kpt_package_name: 'odu-pkg' } })['Kptfile']!.includes('name: odu-pkg'), true);
});

test('applyIntentToPackage changes only spec.replicas of the matching Deployment', () => {
  const app = [
    '# O-DU workload, owned by the RAN team',
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    '  name: odu-high-phy # keep this comment',
    '  namespace: oran-odu',
    '  labels: {tier: "ran", "quoted": \'yes\'}',
    'spec:',
    '  replicas: 2   # scaled by intents',
    '  template:',
    '    spec:',
    '      containers: [{name: phy, image: "registry.example/phy:1.2"}]',
    '---',
    'apiVersion: v1',
    'kind: Service',
    'metadata: {name: odu-high-phy}',
    '',
  ].join('\n');
  const other = 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: something-else\nspec:\n  replicas: 1\n';
  const existing = {
    Kptfile: 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: odu\n',
    'app.yaml': app,
    'other.yaml': other,
    'README.md': '# readme\n',
  };
  const result = applyIntentToPackage(existing, intent, 'id');
  assert.equal(result.changed, true);
  assert.equal(result.changedFile, 'app.yaml');
  assert.equal(result.files['app.yaml'], app.replace('replicas: 2 ', 'replicas: 5 '));
  for (const name of ['Kptfile', 'other.yaml', 'README.md']) assert.equal(result.files[name], existing[name as keyof typeof existing]);
  const again = applyIntentToPackage(result.files, intent, 'id');
  assert.equal(again.changed, false);
});

test('applyIntentToPackage adds a Deployment when the package has none for the target', () => {
  const result = applyIntentToPackage({ Kptfile: 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: p\n' }, intent, 'id');
  assert.equal(result.changedFile, 'deployment.yaml');
  assert.equal((YAML.parse(result.files['deployment.yaml']!) as { spec: { replicas: number } }).spec.replicas, 5);
});
