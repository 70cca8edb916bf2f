// An edit that swaps one scalar token for another is written without parsing the text again
// (krm.ts `swapsProveThemselves`). These properties hold that shortcut to the full proof: over
// generated YAML — every scalar style, tags, anchors and aliases, comments, flow maps, other
// documents and the YAML 1.1 directive — whenever the shortcut accepts an edit, parsing the edited
// text finds exactly the original data with that one value set; and a name is read as the
// parser reads it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import YAML, { type Document, type Scalar } from 'yaml';
import { readsBack, swapsProveThemselves } from '../../core/intent/krm.ts';
import { applyEdits, setScalar } from '../../core/intent/yaml-edit.ts';

type Tree = { [key: string]: Tree | Leaf };
interface Leaf {
  value: string | number;
  style: 'plain' | 'double' | 'single';
  tag: boolean;
  comment: boolean;
}

const word = fc.stringMatching(/^[a-z][a-z0-9-]{0,6}$/);
/** Values that read as something else when written plain, or that need quoting. */
const tricky = fc.constantFrom(
  'true',
  'True',
  'null',
  'NULL',
  'yes',
  'on',
  '~',
  '1e3',
  '0x1F',
  '0o17',
  '.inf',
  '12',
  '-3',
  'a b',
  'a: b',
  '#c',
  'x#y',
  "it's",
  '"q"',
  'a\\b',
  '',
);
const value = fc.oneof(fc.integer({ min: -5, max: 1000 }), word, tricky);
const leaf: fc.Arbitrary<Leaf> = fc.record({
  value,
  style: fc.constantFrom('plain', 'plain', 'double', 'single'),
  tag: fc.constantFrom(false, false, true),
  comment: fc.boolean(),
});
const tree: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree }>((self) => ({
  tree: fc.dictionary(word, fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, self('tree')), { minKeys: 1, maxKeys: 4 }),
})).tree;

function scalarText(l: Leaf): string {
  const text = String(l.value);
  const body =
    l.style === 'double' || text === ''
      ? JSON.stringify(text)
      : l.style === 'single'
        ? `'${text.replaceAll("'", "''")}'`
        : /^[A-Za-z0-9.~-][-A-Za-z0-9._ ]*$/.test(text) && !text.endsWith(' ')
          ? text
          : JSON.stringify(text);
  return `${l.tag ? '!!str ' : ''}${body}`;
}

interface Shape {
  /** First letters of the keys that carry an anchor (`&aN`), aliased (`*aN`) by a later key of the same map. */
  anchors: string;
  /** First letters of the keys whose map of scalars is written as a flow map. */
  flow: string;
}

function render(t: Tree, shape: Shape, indent = ''): string {
  const lines: string[] = [];
  let n = 0;
  for (const [key, node] of Object.entries(t)) {
    const anchor = shape.anchors.includes(key[0]!) ? `&a${(n += 1)} ` : '';
    if ('style' in node) {
      lines.push(`${indent}${key}: ${anchor}${scalarText(node as Leaf)}${(node as Leaf).comment ? '  # note' : ''}`);
    } else if (shape.flow.includes(key[0]!) && Object.values(node).every((v) => 'style' in v)) {
      const entries = Object.entries(node).map(([k, v]) => `${k}: ${scalarText(v as Leaf)}`);
      lines.push(`${indent}${key}: ${anchor}{${entries.join(', ')}}`);
    } else {
      lines.push(`${indent}${key}: ${anchor}`.trimEnd(), render(node, shape, `${indent}  `));
    }
    if (anchor !== '') lines.push(`${indent}${key}-copy: *a${n}`);
  }
  return lines.join('\n');
}

function copy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copy);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copy(v)]));
  return value;
}

/** The key paths of every scalar that is a map value (what the sinks set), with its node. */
function scalarPaths(doc: Document): { path: string[]; node: Scalar }[] {
  const found: { path: string[]; node: Scalar }[] = [];
  YAML.visit(doc, {
    Pair(_, pair, ancestors) {
      if (!YAML.isScalar(pair.value) || !YAML.isScalar(pair.key)) return;
      const keys = ancestors.filter(YAML.isPair).map((p) => String((p.key as Scalar).value));
      found.push({ path: [...keys, String(pair.key.value)], node: pair.value });
    },
  });
  return found;
}

test('property: an edit the token-swap shortcut accepts reads back as the original with one value set', () => {
  let accepted = 0;
  let cases = 0;
  fc.assert(
    fc.property(
      tree,
      fc.stringMatching(/^[a-z]{0,3}$/),
      fc.stringMatching(/^[a-z]{0,8}$/),
      fc.boolean(),
      fc.boolean(),
      fc.nat(),
      value,
      (t, anchors, flow, yaml11, otherDocument, pick, newValue) => {
        const body = render(t, { anchors, flow });
        const prefix = `${otherDocument ? 'kind: Other\n---\n' : ''}${yaml11 ? '%YAML 1.1\n---\n' : ''}`;
        const text = `# generated\n${prefix}${body}\n`;
        const docs = YAML.parseAllDocuments(text) as Document[];
        if (!Array.isArray(docs) || docs.some((d) => d.errors.length > 0)) return;
        const index = docs.length - 1;
        const paths = scalarPaths(docs[index]!);
        if (paths.length === 0) return;
        const { path, node } = paths[pick % paths.length]!;
        const edit = setScalar(text, node, newValue, readsBack);
        cases += 1;
        if (!swapsProveThemselves(text, docs, index, [edit])) return;
        accepted += 1;
        const after = YAML.parseAllDocuments(applyEdits(text, [edit])) as Document[];
        assert.deepEqual(
          after.map((d) => d.errors.map((e) => e.message)),
          docs.map(() => []),
        );
        // Copied node by node: an alias becomes its own copy, so setting one value sets it once.
        const expected = docs.map((d) => copy(d.toJS()) as Record<string, any>);
        let parent = expected[index]!;
        for (const key of path.slice(0, -1)) parent = parent[key];
        parent[path.at(-1)!] = newValue;
        assert.deepEqual(
          after.map((d) => d.toJS() as unknown),
          expected,
          text,
        );
      },
    ),
    { numRuns: 2_000 },
  );
  // Not vacuous: both verdicts are reached often.
  assert.ok(accepted > cases * 0.15 && accepted < cases * 0.85, `${accepted} of ${cases} edits took the shortcut`);
});

test('the shortcut leaves anchors, tags, YAML 1.1 and broken documents to the full proof', () => {
  const cases: [string, (string | number)[], string | number][] = [
    ['a: &x 1\nb: *x\n', ['a'], 2],
    ['m: &m {k: v}\nn: *m\n', ['m', 'k'], 'w'],
    ['a: !!str 1\n', ['a'], 2],
    ['%YAML 1.1\n---\na: x\n', ['a'], 'yes'],
    ['a: x\nb: [\n', ['a'], 'y'],
    ['a: "x"\n', ['a'], 'y z"'],
    ['a: x\n  y\n', ['a'], 'z'],
  ];
  for (const [text, path, newValue] of cases) {
    const docs = YAML.parseAllDocuments(text) as Document[];
    const node = docs[0]!.getIn(path, true) as Scalar;
    const edit = setScalar(text, node, newValue, readsBack);
    assert.equal(swapsProveThemselves(text, docs, 0, [edit]), false, text);
  }
  const docs = YAML.parseAllDocuments('a: x  # c\nb: {c: "d"}\n') as Document[];
  const plain = setScalar('a: x  # c\nb: {c: "d"}\n', docs[0]!.get('a', true) as Scalar, 'y', readsBack);
  const quoted = setScalar('a: x  # c\nb: {c: "d"}\n', docs[0]!.getIn(['b', 'c'], true) as Scalar, 'e', readsBack);
  assert.equal(swapsProveThemselves('a: x  # c\nb: {c: "d"}\n', docs, 0, [plain, quoted]), true);
  assert.equal(applyEdits('a: x  # c\nb: {c: "d"}\n', [plain, quoted]), 'a: y  # c\nb: {c: "e"}\n');
});

test('property: readsBack reads a plain token as the yaml parser does', () => {
  const token = fc.oneof(
    fc.stringMatching(/^[A-Za-z][-A-Za-z0-9._/]{0,8}$/),
    fc.constantFrom(
      'null',
      'Null',
      'NULL',
      'nULL',
      'true',
      'True',
      'TRUE',
      'tRUE',
      'false',
      'FALSE',
      'yes',
      'No',
      'Infinity',
      'NaN',
      'e5',
      'x1e3',
    ),
    fc.stringMatching(/^[-+.0-9][-A-Za-z0-9._]{0,6}$/),
  );
  fc.assert(
    fc.property(token, (text) => {
      assert.deepEqual(readsBack(text), YAML.parse(text));
    }),
    { numRuns: 3_000 },
  );
});
