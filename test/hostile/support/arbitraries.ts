// fast-check arbitraries for hostile input: intents that are valid, nearly valid or mutated,
// strings salted with injection shapes, control and combining characters, raw bytes, and file
// names (unicode, dots, spaces, names that do not match the pattern).
import fc from 'fast-check';

export const DNS_1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const NAMESPACES_ALLOWED = ['oran-odu', 'oran-cu', 'ran-edge'];

/** A DNS-1123 label of 1–63 characters. */
export const dnsLabel = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);

/** Strings that are nearly DNS-1123 labels, or not at all. */
export const notQuiteLabel = fc.oneof(
  fc.constantFrom(
    '',
    '-a',
    'a-',
    'A',
    'odu_high',
    'odu.high',
    'odü',
    'a'.repeat(64),
    '../etc',
    'kube system',
    'ODU',
    'a\n',
    '\u212Aube',
    '0',
  ),
  fc.mixedCase(dnsLabel),
  dnsLabel.map((s) => `${s}.`),
  fc.string({ maxLength: 70 }),
);

/** Fragments an attacker (or a confused producer) would put into a string field. */
export const FRAGMENTS = [
  '$(reboot)',
  '`id`',
  '${HOME}',
  '<script>',
  '< / SCRIPT',
  'javascript:',
  '../',
  '; rm -rf /',
  '| sh',
  '&&',
  'DROP TABLE x',
  '\u037E rm', // NFC turns U+037E into ';'
  '\u1FEF', // NFC turns U+1FEF into '`'
  '\u0000',
  '\u0007',
  '\u001b[2J',
  '\u0085',
  '\u202E',
  '\u2066',
  '\r\n',
  '\t',
  'e\u0301', // decomposed é
  '\u00e9',
  '\u0958', // NFC expands it to two code points
  '\uFB2C', // NFC expands it to three code points
  '\u212A', // KELVIN SIGN, NFC 'K'
  '\ud800', // a lone surrogate
  '\udc00',
  '🚀',
  '"',
  '\\',
  '__proto__',
  'constructor',
];

/** Any string, salted with fragments. */
export const hostileString = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  {
    weight: 4,
    arbitrary: fc
      .array(fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 6 })), { maxLength: 6 })
      .map((parts) => parts.join('')),
  },
);

export const replicasValue = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 100 }) },
  { weight: 2, arbitrary: fc.integer({ min: -1_000, max: 1_000 }) },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true, min: -200, max: 200 }) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(0, 101, -1, 1.5, '5', null, true, [3], { n: 3 }, 1e21) },
);

/** Text a producer would write: letters, digits, spaces, some punctuation and non-ASCII. */
const plainText = fc.string({
  unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789-_,:!?()\'"#@%+=é漢ß'.split('')),
  maxLength: 60,
});

/** Mostly harmless text, sometimes not: most generated intents should pass, many should not. */
const text = fc.oneof(
  { weight: 8, arbitrary: plainText },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  { weight: 1, arbitrary: hostileString },
);

const correlationId = fc.oneof({ weight: 6, arbitrary: fc.stringMatching(/^[a-z0-9-]{1,20}$/) }, { weight: 1, arbitrary: hostileString });
const targetResources = fc.array(fc.oneof({ weight: 6, arbitrary: dnsLabel }, { weight: 1, arbitrary: hostileString }), { maxLength: 3 });
const otherNamespaces = fc.array(dnsLabel, { maxLength: 2 });
const intentType = fc.constantFrom('scaling', 'deployment', 'configuration');
const sourceField = fc.constantFrom('user', 'planner', 'test', '');
const priority = fc.integer({ min: 0, max: 10 });

/** An intent that satisfies the schema and its own constraints (the rest of the rules may still refuse it). */
export const validIntent = fc
  .record({
    intent_type: intentType,
    target: dnsLabel,
    namespace: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...NAMESPACES_ALLOWED) }, { weight: 1, arbitrary: dnsLabel }),
    replicas: fc.integer({ min: 1, max: 100 }),
  })
  .chain((base) =>
    fc
      .record(
        {
          reason: text,
          source: sourceField,
          correlation_id: correlationId,
          priority,
          description: text,
          target_resources: targetResources,
          constraints: fc.record(
            {
              min_replicas: fc.integer({ min: 0, max: base.replicas }),
              max_replicas: fc.integer({ min: base.replicas, max: 100 }),
              allowed_namespaces: otherNamespaces.map((others) => [...others, base.namespace]),
              kpt_package_name: dnsLabel,
              porch_repository: text,
            },
            { requiredKeys: [] },
          ),
        },
        { requiredKeys: [] },
      )
      .map((extra) => ({ ...base, ...extra }) as Record<string, unknown>),
  );

const KEYS = [
  'intent_type',
  'target',
  'namespace',
  'replicas',
  'reason',
  'source',
  'correlation_id',
  'priority',
  'constraints',
  'description',
];

type Mutation = (intent: Record<string, unknown>) => Record<string, unknown>;

/** One mutation of an intent object. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof<fc.Arbitrary<Mutation>[]>(
  fc
    .record({ key: fc.constantFrom(...KEYS), value: fc.jsonValue({ maxDepth: 3 }) })
    .map(({ key, value }) => (i) => ({ ...i, [key]: value })),
  fc.constantFrom(...KEYS).map((key) => (i) => Object.fromEntries(Object.entries(i).filter(([k]) => k !== key))),
  fc.record({ key: fc.constantFrom('target', 'namespace'), value: notQuiteLabel }).map(({ key, value }) => (i) => ({ ...i, [key]: value })),
  replicasValue.map((value) => (i) => ({ ...i, replicas: value })),
  fc
    .record({ key: fc.constantFrom('reason', 'description', 'correlation_id'), value: hostileString })
    .map(({ key, value }) => (i) => ({ ...i, [key]: value })),
  fc
    .record({
      key: fc.oneof(
        fc.constantFrom('command', 'spec', '__proto__', 'constructor', 'prototype', '$(id)', 'x\u0000'),
        fc.string({ maxLength: 8 }),
      ),
      value: fc.jsonValue({ maxDepth: 2 }),
    })
    .map(({ key, value }) => (i) => ({ ...i, [key]: value })),
  fc
    .record({
      key: fc.constantFrom('__proto__', 'constructor', 'prototype', '$(x)', 'a&&b', 'deep'),
      depth: fc.integer({ min: 1, max: 20 }),
    })
    .map(({ key, depth }) => (i) => {
      let inner: unknown = 1;
      for (let d = 0; d < depth; d += 1) inner = { [key]: inner };
      return { ...i, constraints: inner };
    }),
  fc
    .record({ min: fc.integer({ min: -2, max: 110 }), max: fc.integer({ min: -2, max: 110 }) })
    .map(({ min, max }) => (i) => ({ ...i, constraints: { min_replicas: min, max_replicas: max } })),
  fc
    .array(fc.oneof(fc.constantFrom(...NAMESPACES_ALLOWED, 'kube-system'), notQuiteLabel), { maxLength: 3 })
    .map((allowed) => (i) => ({ ...i, constraints: { allowed_namespaces: allowed } })),
  // Long strings of characters that NFC expands (U+0958 → 2 code points, U+FB2C → 3).
  fc
    .record({ char: fc.constantFrom('\u0958', '\uFB2C', 'e\u0301'), n: fc.integer({ min: 100, max: 512 }) })
    .map(({ char, n }) => (i) => ({ ...i, reason: char.repeat(n).slice(0, 512) })),
);

/** A valid intent with 0–3 mutations. */
export const mutatedIntent = fc
  .tuple(validIntent, fc.array(mutation, { maxLength: 3 }))
  .map(([intent, mutations]) => mutations.reduce((acc, m) => m(acc), intent));

/** How an intent object becomes bytes: plain, pretty, or damaged at the byte level. */
export const serialised = (value: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<Uint8Array> =>
  fc
    .tuple(
      value,
      fc.constantFrom<0 | 2 | '\t'>(0, 2, '\t'),
      fc.oneof(
        { weight: 8, arbitrary: fc.constant('none') },
        {
          weight: 3,
          arbitrary: fc.constantFrom(
            'bom',
            'trailing-value',
            'trailing-garbage',
            'nul',
            'truncate',
            'array',
            'utf16',
            'bad-byte',
            'trailing-space',
            'duplicate-key',
          ),
        },
      ),
      fc.nat(),
    )
    .map(([intent, indent, damage, at]) => {
      const text = indent === 0 ? JSON.stringify(intent) : JSON.stringify(intent, null, indent);
      const bytes = Buffer.from(text, 'utf8');
      switch (damage) {
        case 'bom':
          return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]);
        case 'trailing-value':
          return Buffer.concat([bytes, Buffer.from(' {}')]);
        case 'trailing-garbage':
          return Buffer.concat([bytes, Buffer.from('x')]);
        case 'nul':
          return Buffer.concat([bytes.subarray(0, at % (bytes.length + 1)), Buffer.from([0]), bytes.subarray(at % (bytes.length + 1))]);
        case 'truncate':
          return bytes.subarray(0, at % Math.max(1, bytes.length));
        case 'array':
          return Buffer.concat([Buffer.from('['), bytes, Buffer.from(']')]);
        case 'utf16':
          return Buffer.from(text, 'utf16le');
        case 'bad-byte':
          return Buffer.concat([bytes.subarray(0, at % (bytes.length + 1)), Buffer.from([0xff]), bytes.subarray(at % (bytes.length + 1))]);
        case 'trailing-space':
          return Buffer.concat([bytes, Buffer.from('\n \t\r\n')]);
        case 'duplicate-key':
          return Buffer.from(`${text.trimEnd().slice(0, -1)}${Object.keys(intent).length > 0 ? ',' : ''}"replicas":${at % 150}}`, 'utf8');
        default:
          return bytes;
      }
    });

/** Raw bytes: random, or a valid intent's bytes with random bytes flipped, inserted or cut. */
export const rawBytes = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc
    .tuple(
      validIntent,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'insert', 'cut')), {
        minLength: 1,
        maxLength: 4,
      }),
    )
    .map(([intent, edits]) => {
      let bytes = Buffer.from(JSON.stringify(intent), 'utf8');
      for (const [at, byte, kind] of edits) {
        const i = at % (bytes.length + 1);
        if (kind === 'flip' && i < bytes.length) bytes[i] = byte;
        else if (kind === 'insert') bytes = Buffer.concat([bytes.subarray(0, i), Buffer.from([byte]), bytes.subarray(i)]);
        else bytes = Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + 1)]);
      }
      return new Uint8Array(bytes);
    }),
);

/** The middle of a file name: unicode, dots, spaces, quotes — never '/' or NUL. */
const nameMiddle = fc
  .oneof(
    fc.string({ maxLength: 30 }),
    fc.string({ unit: 'grapheme', maxLength: 15 }),
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.constantFrom(
      '',
      '.',
      '..',
      ' ',
      ' leading',
      'trailing ',
      'a.b.c',
      '-rf',
      '$(x)',
      '\n',
      'e\u0301',
      '\u00e9',
      '💥',
      '\u202E',
      'x'.repeat(150),
    ),
  )
  .map((s) => s.replaceAll('/', '_').replaceAll('\u0000', '_').toWellFormed());

/** A file name that may or may not match intent-*.json; at most `maxBytes` bytes. */
export const fileName = (maxBytes = 200): fc.Arbitrary<string> =>
  fc
    .tuple(
      nameMiddle,
      fc.oneof(
        { weight: 8, arbitrary: fc.constant(['intent-', '.json'] as const) },
        {
          weight: 2,
          arbitrary: fc.constantFrom(
            ['', '.json'] as const,
            ['intent-', ''] as const,
            ['.intent-', '.json.tmp'] as const,
            ['INTENT-', '.json'] as const,
            ['intent-', '.JSON'] as const,
          ),
        },
      ),
    )
    .map(([middle, [prefix, suffix]]) => {
      const chars = [...middle];
      while (Buffer.byteLength(`${prefix}${chars.join('')}${suffix}`) > maxBytes) chars.pop();
      const name = `${prefix}${chars.join('')}${suffix}`;
      return name === '' || name === '.' || name === '..' ? 'intent-fallback.json' : name;
    });
