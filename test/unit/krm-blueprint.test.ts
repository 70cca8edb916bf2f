// New packages from a blueprint (issue 18, defects 6-8): the Kptfile named after the package,
// the one Deployment renamed, put in the namespace and scaled, labels kept consistent, and
// every other byte of the blueprint kept; the intent id is recorded by the sinks, not in the
// Deployment; package names are DNS-1123 labels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import YAML from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import {
  ConductorError,
  INTENT_ID_ANNOTATION,
  applyIntentToPackage,
  instantiateBlueprint,
  packageNameOf,
  renderPackage,
  type Intent,
  type PackageFiles,
} from '../../core/index.ts';

const SHIPPED = fileURLToPath(new URL('../../examples/blueprints/deployment', import.meta.url));
const shipped: PackageFiles = Object.fromEntries(readdirSync(SHIPPED).map((name) => [name, readFileSync(join(SHIPPED, name), 'utf8')]));
const intent: Intent = { intent_type: 'scaling', target: 'odu-high-phy', namespace: 'oran-odu', replicas: 5 };

const KPTFILE = [
  '# upstream: the team blueprint',
  'apiVersion: kpt.dev/v1',
  'kind: Kptfile',
  'metadata:',
  '  name: nginx-blueprint  # renamed per package',
  'info: {description: "nginx"}',
  '',
].join('\n');
const DEPLOYMENT = [
  '# nginx, the team way',
  'apiVersion: apps/v1',
  'kind: Deployment',
  'metadata:',
  '  name: nginx',
  '  labels: {app: nginx, tier: "web"}',
  'spec:',
  '  selector:',
  '    matchLabels:',
  "      app: 'nginx'",
  '  template:',
  '    metadata:',
  '      labels: {app: nginx, tier: web}',
  '    spec:',
  '      containers:',
  '      - name: nginx   # the container keeps its name',
  '        image: nginx:1.27.3',
  '---',
  'apiVersion: v1',
  'kind: Service',
  'metadata: {name: nginx}',
  'spec: {selector: {app: nginx}, ports: [{port: 80}]}',
  '',
].join('\n');
const blueprint: PackageFiles = { Kptfile: KPTFILE, 'app.yaml': DEPLOYMENT, 'README.md': '# nginx blueprint\n' };

test('instantiateBlueprint: Kptfile named after the package, the Deployment renamed, namespaced and scaled, the rest byte for byte', () => {
  const files = instantiateBlueprint(blueprint, { ...intent, constraints: { kpt_package_name: 'odu-pkg' } });
  assert.deepEqual(Object.keys(files).sort(), ['Kptfile', 'README.md', 'app.yaml']);
  assert.equal(files['Kptfile'], KPTFILE.replace('name: nginx-blueprint ', 'name: odu-pkg '));
  assert.equal(files['README.md'], blueprint['README.md']);
  const expected = DEPLOYMENT.replace('  name: nginx\n', '  name: odu-high-phy\n  namespace: oran-odu\n')
    .replace('labels: {app: nginx, tier: "web"}', 'labels: {app: odu-high-phy, tier: "web"}')
    .replace("app: 'nginx'", "app: 'odu-high-phy'")
    .replace('spec:\n  selector:', 'spec:\n  replicas: 5\n  selector:')
    .replace('labels: {app: nginx, tier: web}', 'labels: {app: odu-high-phy, tier: web}');
  assert.equal(files['app.yaml'], expected);
  // The Service is another resource of the blueprint: kept as it is.
  assert.ok(files['app.yaml']!.endsWith('metadata: {name: nginx}\nspec: {selector: {app: nginx}, ports: [{port: 80}]}\n'));
  // The package is one a later intent finds and changes in one value.
  const next = applyIntentToPackage(files, { ...intent, replicas: 9 }, 'id-2');
  assert.equal(next.files['app.yaml'], expected.replace('replicas: 5', 'replicas: 9'));
});

test('the shipped blueprint gives a Deployment that passes the Kubernetes schema, with a pinned image', () => {
  const files = instantiateBlueprint(shipped, intent);
  assert.equal((YAML.parse(files['Kptfile']!) as { metadata: { name: string } }).metadata.name, 'odu-high-phy');
  const deployment = YAML.parse(files['deployment.yaml']!) as Record<string, any>;
  new Deployment(deployment).validate();
  assert.equal(deployment['metadata'].name, 'odu-high-phy');
  assert.equal(deployment['metadata'].namespace, 'oran-odu');
  assert.equal(deployment['spec'].replicas, 5);
  assert.deepEqual(deployment['spec'].selector.matchLabels, { 'app.kubernetes.io/name': 'odu-high-phy' });
  assert.equal(deployment['spec'].template.metadata.labels['app.kubernetes.io/name'], 'odu-high-phy');
  const image = deployment['spec'].template.spec.containers[0].image as string;
  assert.match(image, /^[a-z0-9.-]+\/[a-z0-9/._-]+:[0-9][\w.-]*$/, `a pinned image, not latest (${image})`);
  assert.ok(deployment['spec'].template.spec.containers[0].resources.requests, 'resource requests');
  assert.ok(deployment['spec'].template.spec.containers[0].readinessProbe, 'a readiness probe');
  // The OpenAPI schema leaves `image` optional (the API server requires it): the bare Deployment
  // the sinks used to make passes the schema yet has no image, which is why it is checked apart.
  const bare = YAML.parse(renderPackage(intent)['deployment.yaml']!) as Record<string, any>;
  assert.equal(bare['spec'].template.spec.containers[0].image, undefined);
});

test('a blueprint without a Kptfile or without exactly one Deployment is refused with CND_ERR_BLUEPRINT', () => {
  const refused = (files: PackageFiles, message: RegExp) =>
    assert.throws(
      () => instantiateBlueprint(files, intent, { source: '/blueprints/x', intentId: 'id-b', plugin: 'git-sink' }),
      (error: unknown) =>
        error instanceof ConductorError &&
        error.code === 'CND_ERR_BLUEPRINT' &&
        error.kind === 'permanent' &&
        error.intentId === 'id-b' &&
        error.message.startsWith('blueprint /blueprints/x: ') &&
        message.test(error.message),
    );
  refused({ 'app.yaml': DEPLOYMENT }, /has no Kptfile/);
  refused({ Kptfile: KPTFILE, 'svc.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {name: s}\n' }, /exactly one Deployment.*found none/);
  refused({ Kptfile: KPTFILE, 'a.yaml': DEPLOYMENT, 'b.yaml': DEPLOYMENT }, /exactly one Deployment.*a\.yaml#1, b\.yaml#1/);
  refused({ Kptfile: KPTFILE, 'a.yaml': 'kind: [' }, /a\.yaml/);
});

test('defect 7: no Deployment carries the intent-id annotation (the commit trailer / PackageRevision record it)', () => {
  const packages = [
    instantiateBlueprint(shipped, intent, { intentId: 'id-1' }),
    renderPackage(intent),
    applyIntentToPackage({}, intent, 'id-1').files,
  ];
  for (const files of packages) {
    for (const [name, content] of Object.entries(files)) assert.ok(!content.includes(INTENT_ID_ANNOTATION), `${name} names no intent`);
  }
});

test('defect 8: the package name (Kptfile and directory) is kpt_package_name else the target, and must be a DNS-1123 label', () => {
  assert.equal(packageNameOf(intent), 'odu-high-phy');
  assert.equal(packageNameOf({ ...intent, constraints: { kpt_package_name: 'odu-pkg' } }), 'odu-pkg');
  for (const bad of ['../etc', 'Odu', 'a/b', '-x', 'x'.repeat(64), '']) {
    assert.throws(
      () => packageNameOf({ ...intent, constraints: { kpt_package_name: bad } }),
      (error: unknown) =>
        error instanceof ConductorError && error.code === 'CND_ERR_INTENT_INVALID' && /constraints\.kpt_package_name/.test(error.message),
      bad,
    );
  }
  assert.throws(
    () => instantiateBlueprint(shipped, { ...intent, constraints: { kpt_package_name: '../x' } }, { intentId: 'id-3' }),
    (error: unknown) => error instanceof ConductorError && error.code === 'CND_ERR_INTENT_INVALID' && error.intentId === 'id-3',
  );
  const added = applyIntentToPackage({}, { ...intent, constraints: { kpt_package_name: 'odu-pkg' } }, 'id');
  const kptfile = YAML.parse(added.files['Kptfile']!) as { metadata: { name: string } };
  assert.equal(kptfile.metadata.name, 'odu-pkg');
});

test('property: instantiating keeps every blueprint line but the name, namespace, replicas and name-label lines', () => {
  const word = fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/);
  const comment = fc.stringMatching(/^[ -~]{0,30}$/).map((text) => `# ${text}`);
  fc.assert(
    fc.property(
      fc.array(comment, { maxLength: 3 }),
      fc.integer({ min: 1, max: 4 }),
      fc.uniqueArray(fc.tuple(word, word), { selector: ([k]) => k, maxLength: 4 }),
      fc.boolean(),
      fc.integer({ min: 1, max: 100 }),
      (header, width, extra, withReplicas, replicas) => {
        const i = ' '.repeat(width);
        const fields = extra.filter(([k]) => !['replicas', 'selector', 'template'].includes(k));
        const lines = [
          ...header,
          'apiVersion: apps/v1',
          'kind: Deployment',
          'metadata:',
          `${i}name: web`,
          `${i}labels: {app: web}`,
          'spec:',
          ...(withReplicas ? [`${i}replicas: 1`] : []),
          ...fields.map(([k, v]) => `${i}${k}: ${v}`),
          `${i}selector: {matchLabels: {app: web}}`,
          `${i}template:`,
          `${i}${i}metadata: {labels: {app: web}}`,
          `${i}${i}spec: {containers: [{name: web, image: "nginx:1.27.3"}]}`,
          '',
        ];
        const before = lines.join('\n');
        const files = instantiateBlueprint({ Kptfile: KPTFILE, 'd.yaml': before }, { ...intent, replicas });
        const renamed = (line: string) =>
          line.replace(`${i}name: web`, `${i}name: odu-high-phy\n${i}namespace: oran-odu`).replaceAll('app: web', 'app: odu-high-phy');
        const expected = lines
          .map((line) => (line.startsWith('#') ? line : renamed(line)))
          .map((line) => (line === `${i}replicas: 1` ? `${i}replicas: ${replicas}` : line))
          .map((line) => (line === 'spec:' && !withReplicas ? `spec:\n${i}replicas: ${replicas}` : line))
          .join('\n');
        assert.equal(files['d.yaml'], expected);
      },
    ),
    { numRuns: 200 },
  );
});

test('a blueprint parsed once serves every package alike: the result of an intent does not depend on those before it (property)', () => {
  const target = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}[a-z0-9]$/);
  const intents = fc.array(
    fc.record({ target, namespace: fc.constantFrom('oran-odu', 'oran-cu', 'ran'), replicas: fc.integer({ min: 0, max: 50 }) }),
    { minLength: 2, maxLength: 6 },
  );
  fc.assert(
    fc.property(intents, (list) => {
      const make = (i: (typeof list)[number]) => instantiateBlueprint(shipped, { intent_type: 'scaling', ...i });
      const forward = list.map(make);
      const backward = [...list].reverse().map(make).reverse();
      assert.deepEqual(backward, forward);
      for (const [n, files] of forward.entries()) assert.equal(YAML.parse(files['deployment.yaml']!).spec.replicas, list[n]!.replicas);
    }),
    { numRuns: 40 },
  );
});
