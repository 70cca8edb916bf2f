// A package file the renderer wrote by token swaps is edited again from what it remembers of
// that text (core/intent/written-texts.ts), without parsing it. This property holds the two ways
// to the same result: any sequence of intents over a package renders the same files, and the
// same refusals, whether the renderer remembers its texts or forgets them before every intent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { applyIntentToPackage, instantiateBlueprint, type Intent, type PackageFiles } from '../../core/index.ts';
import { forgetWritten, writtenText } from '../../core/intent/written-texts.ts';

const SHIPPED = new URL('../../examples/blueprints/deployment/', import.meta.url);
const blueprint: PackageFiles = {
  Kptfile: readFileSync(new URL('Kptfile', SHIPPED), 'utf8'),
  'deployment.yaml': readFileSync(new URL('deployment.yaml', SHIPPED), 'utf8'),
};

/** A hand-written package: a ConfigMap first, then two Deployments in one file, one without a namespace. */
const handWritten: PackageFiles = {
  Kptfile: 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: pair\n',
  'a-config.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-a}\ndata: {replicas: "1"}\n',
  'workloads.yaml': [
    '# two workloads',
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    '  name: other',
    'spec:',
    '  replicas: 2   # scaled by hand',
    '---',
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata: {name: app-a, namespace: ns1}',
    'spec: {replicas: 1, selector: {matchLabels: {app: app-a}}}',
    '',
  ].join('\n'),
};

const intent = fc.record({
  intent_type: fc.constant('scaling' as const),
  target: fc.constantFrom('app-a', 'b', 'other', 'long-named-workload'),
  namespace: fc.constantFrom('ns1', 'production'),
  replicas: fc.integer({ min: 0, max: 12 }),
});

type Outcome = { files: PackageFiles; changedFile: string; changed: boolean } | { refused: string };

function apply(files: PackageFiles, next: Intent, forget: boolean): Outcome {
  if (forget) forgetWritten();
  try {
    return applyIntentToPackage(files, next, 'id');
  } catch (error) {
    return { refused: (error as Error).message };
  }
}

test('property: remembered texts render what parsing them renders, intent after intent', () => {
  let remembered = 0;
  fc.assert(
    fc.property(fc.boolean(), intent, fc.array(intent, { minLength: 1, maxLength: 8 }), (fromBlueprint, first, rest) => {
      forgetWritten();
      const start = fromBlueprint ? instantiateBlueprint(blueprint, first) : handWritten;
      let withMemory = start;
      let without = start;
      for (const next of rest) {
        if (Object.values(withMemory).some((text) => writtenText(text) !== undefined)) remembered += 1;
        const a = apply(withMemory, next, false);
        const b = apply(without, next, true);
        assert.deepEqual(a, b);
        if ('files' in a && 'files' in b) {
          withMemory = a.files;
          without = b.files;
        }
      }
    }),
    { numRuns: 400 },
  );
  assert.ok(remembered > 500, `only ${remembered} intents found a remembered text`);
});

test('a remembered text is found only as the very text written: a file changed by someone else is parsed again', () => {
  forgetWritten();
  const files = instantiateBlueprint(blueprint, { intent_type: 'scaling', target: 'web', namespace: 'shop', replicas: 2 });
  const written = files['deployment.yaml']!;
  assert.deepEqual(writtenText(written)?.deployments, [{ name: 'web', namespace: 'shop' }]);
  assert.equal(written.slice(writtenText(written)!.replicas.start, writtenText(written)!.replicas.end), '2');
  // Someone renames the Deployment by hand: the new text is not the one remembered.
  const edited = { ...files, 'deployment.yaml': written.replace('name: web\n', 'name: web-v2\n') };
  const result = applyIntentToPackage(edited, { intent_type: 'scaling', target: 'web', namespace: 'shop', replicas: 4 }, 'id');
  assert.equal(result.changedFile, 'web-deployment.yaml', 'the renamed Deployment is not the target: a new one is added');
});
