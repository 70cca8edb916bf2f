// Setting replicas on a Deployment that has none (an HPA-style file): exactly one line is added
// to the file and every other byte is kept — header comments, flow maps, list indentation and
// the other documents of a multi-document file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import YAML from 'yaml';
import { ConductorError, applyIntentToPackage, type Intent } from '../../core/index.ts';

const intent: Intent = { intent_type: 'scaling', target: 'api', namespace: 'shop', replicas: 7 };

const HPA_STYLE = [
  '# api: scaled by its HorizontalPodAutoscaler, so no replicas here',
  '# (owned by the shop team)',
  '---',
  'apiVersion: v1',
  'kind: ConfigMap',
  'metadata: {name: api-config, namespace: shop}',
  'data:',
  '  LOG_LEVEL: "info"',
  '---',
  'apiVersion: apps/v1',
  'kind: Deployment',
  'metadata:',
  '    name: api   # the workload',
  '    namespace: shop',
  '    labels: {app: api}',
  'spec:',
  '    # the pods',
  '    selector:',
  '        matchLabels: {app: api}',
  '    template:',
  '        metadata:',
  '            labels: {app: api}',
  '        spec:',
  '            containers:',
  '            -   name: api',
  '                image: "registry.example/api:2.1"',
  '                args: [--port, "8080"]',
  '                ports:',
  '                -   containerPort: 8080',
  '---',
  'apiVersion: autoscaling/v2',
  'kind: HorizontalPodAutoscaler',
  'metadata: {name: api, namespace: shop}',
  'spec:',
  '  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}',
  '  minReplicas: 2',
  '  maxReplicas: 10',
  '',
].join('\n');

/** The lines of `after` that are not in `before`, and the other way round (a line diff by LCS). */
function lineDiff(before: string, after: string): { added: string[]; removed: string[] } {
  const a = before.split('\n');
  const b = after.split('\n');
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => Array.from({ length: b.length + 1 }, () => 0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const added: string[] = [];
  const removed: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) removed.push(a[i++]!);
    else added.push(b[j++]!);
  }
  return { added: [...added, ...b.slice(j)], removed: [...removed, ...a.slice(i)] };
}

test('an HPA-style Deployment without spec.replicas gains exactly one line, at the indentation of spec', () => {
  const result = applyIntentToPackage({ 'app.yaml': HPA_STYLE }, intent, 'id');
  assert.equal(result.changed, true);
  assert.equal(result.changedFile, 'app.yaml');
  const after = result.files['app.yaml']!;
  assert.deepEqual(lineDiff(HPA_STYLE, after), { added: ['    replicas: 7'], removed: [] });
  assert.equal(after, HPA_STYLE.replace('spec:\n    # the pods', 'spec:\n    replicas: 7\n    # the pods'));
  const docs = YAML.parseAllDocuments(after);
  assert.equal(docs.length, 3);
  assert.equal(docs[1]!.getIn(['spec', 'replicas']), 7);
  // Set again: now the value is there, and only its bytes change.
  const again = applyIntentToPackage(result.files, { ...intent, replicas: 12 }, 'id2');
  assert.deepEqual(lineDiff(after, again.files['app.yaml']!), { added: ['    replicas: 12'], removed: ['    replicas: 7'] });
});

test('a flow-style spec gains the entry inside its braces; an empty replicas gets its value', () => {
  const flow = '# flow\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec: {selector: {matchLabels: {app: api}}}\n';
  assert.equal(
    applyIntentToPackage({ 'd.yaml': flow }, intent, 'id').files['d.yaml'],
    flow.replace('spec: {selector', 'spec: {replicas: 7, selector'),
  );
  const empty = 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  replicas:\n  selector: {}\n';
  assert.equal(applyIntentToPackage({ 'd.yaml': empty }, intent, 'id').files['d.yaml'], empty.replace('replicas:\n', 'replicas: 7\n'));
  const crlf = 'apiVersion: apps/v1\r\nkind: Deployment\r\nmetadata:\r\n  name: api\r\nspec:\r\n  selector: {}\r\n';
  const withCrlf = applyIntentToPackage({ 'd.yaml': crlf }, intent, 'id').files['d.yaml'];
  assert.equal(withCrlf, crlf.replace('spec:\r\n', 'spec:\r\n  replicas: 7\r\n'));
});

test('a Deployment without a spec map is refused with a clear permanent error, not reformatted', () => {
  const noSpec = 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n';
  assert.throws(
    () => applyIntentToPackage({ 'd.yaml': noSpec }, intent, 'id-x'),
    (error: unknown) =>
      error instanceof ConductorError &&
      error.code === 'CND_ERR_SUBMIT_PERMANENT' &&
      error.intentId === 'id-x' &&
      /d\.yaml/.test(error.message) &&
      /no spec/.test(error.message),
  );
});

// Arbitrary comments and other fields around the Deployment survive byte for byte: the only
// difference is the one added line.
const word = fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/);
const comment = fc.stringMatching(/^[ -~]{0,30}$/).map((text) => `# ${text}`);
const scalar = fc.oneof(
  word,
  fc.integer({ min: 0, max: 9999 }).map(String),
  word.map((w) => `"${w}"`),
  word.map((w) => `'${w}'`),
);
const flowMap = fc
  .uniqueArray(fc.tuple(word, scalar), { selector: ([k]) => k, minLength: 1, maxLength: 3 })
  .map((pairs) => `{${pairs.map(([k, v]) => `${k}: ${v}`).join(', ')}}`);
const value = fc.oneof(scalar, flowMap);

test('property: every byte but the added replicas line is preserved', () => {
  fc.assert(
    fc.property(
      fc.array(comment, { maxLength: 3 }),
      fc.integer({ min: 1, max: 6 }),
      fc.uniqueArray(fc.tuple(word, value, fc.option(comment, { nil: undefined })), { selector: ([k]) => k, minLength: 1, maxLength: 5 }),
      fc.boolean(),
      fc.integer({ min: 1, max: 100 }),
      (header, indentWidth, specFields, leadingDocument, replicas) => {
        const indent = ' '.repeat(indentWidth);
        const fields = specFields.filter(([k]) => k !== 'replicas');
        fc.pre(fields.length > 0);
        const lines = [
          ...header,
          ...(leadingDocument ? ['kind: ConfigMap', 'metadata: {name: other}', '---'] : []),
          'apiVersion: apps/v1',
          'kind: Deployment',
          'metadata:',
          `${indent}name: api`,
          'spec:',
          ...fields.map(([k, v, c]) => `${indent}${k}: ${v}${c === undefined ? '' : `  ${c}`}`),
          '',
        ];
        const before = lines.join('\n');
        const after = applyIntentToPackage({ 'd.yaml': before }, { ...intent, replicas }, 'id').files['d.yaml']!;
        assert.deepEqual(lineDiff(before, after), { added: [`${indent}replicas: ${replicas}`], removed: [] });
        assert.equal(after.replace(`\n${indent}replicas: ${replicas}\n`, '\n'), before);
      },
    ),
    { numRuns: 300 },
  );
});
