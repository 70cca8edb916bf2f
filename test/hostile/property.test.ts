// Issue 4, acceptance 3: property tests (fast-check) over generated intents, byte strings and
// file names. The decision (parse → validate → sanitize) is checked in-process with
// `pipeline.check`, which runs exactly those stages without I/O, on the real plugins; a smaller
// sample is dropped as files into a real data directory and must end where `check` predicted.
//
// Reproduce a failure with the seed printed in the test names:
//   HOSTILE_SEED=<seed> npx node --test test/hostile/property.test.ts
// HOSTILE_RUNS scales the main property (default 10,000 cases), HOSTILE_E2E the file drops (200).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import ajvFormats from 'ajv-formats';
import fc from 'fast-check';
import { createConductor, type Conductor } from '../../core/app.ts';
import { resolveConfig } from '../../core/config/validate.ts';
import { silentLogger } from '../../core/log.ts';
import { ConductorError, ERROR_CODES, canonicalJson, type Envelope, type Intent } from '../../core/index.ts';
import { DEFAULT_BLOCKED_PATTERNS } from '../../plugins/sanitize/index.ts';
import { tempDir } from '../support/data-dir.ts';
import {
  DNS_1123,
  NAMESPACES_ALLOWED,
  fileName,
  mutatedIntent,
  rawBytes,
  serialised,
  validIntent,
  dnsLabel,
} from './support/arbitraries.ts';
import { Harness } from './support/harness.ts';
import { verify, type Expect } from './support/expect.ts';

const SEED = Number(process.env['HOSTILE_SEED'] ?? (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) & 0x7fffffff);
const RUNS = Number(process.env['HOSTILE_RUNS'] ?? 10_000);
const E2E = Number(process.env['HOSTILE_E2E'] ?? 200);
const MAX_INPUT_LENGTH = 2_000;

const BLOCKED = DEFAULT_BLOCKED_PATTERNS.map((source) => new RegExp(source, 'iu'));
// oxlint-disable-next-line no-control-regex -- the sanitizer's definition of a control character
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const PATTERN = /^intent-[^/]*\.json$/u; // fs-source's default pattern, intent-*.json

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
ajvFormats.default(ajv);
const validateSchema = ajv.compile(
  JSON.parse(readFileSync(new URL('../../plugins/schema-validate/intent.schema.json', import.meta.url), 'utf8')) as object,
);

/** Two checking pipelines built from the real plugins: one open, one limited to NAMESPACES_ALLOWED. */
const pipelines: { open?: Conductor; restricted?: Conductor; again?: Conductor } = {};

async function checker(validate: Record<string, unknown>): Promise<Conductor> {
  const dataDir = tempDir('conductor-property-');
  const resolved = await resolveConfig(
    { dataDir, plugins: { 'schema-validate': validate, sanitize: { maxInputLength: MAX_INPUT_LENGTH } } },
    { source: 'property-test', baseDir: dataDir },
  );
  return createConductor(resolved, { log: silentLogger(), mode: 'check', withoutSources: true });
}

before(async () => {
  pipelines.open = await checker({});
  pipelines.restricted = await checker({ allowedNamespaces: NAMESPACES_ALLOWED });
  pipelines.again = await checker({}); // a second, independent build: identity must not depend on the instance
});
after(async () => {
  for (const conductor of Object.values(pipelines)) await conductor?.stop();
});

type Decision = Awaited<ReturnType<Conductor['pipeline']['check']>>;

function envelope(file: string, bytes: Uint8Array): Envelope {
  return { file, source: 'property', bytes, receivedAt: 0, ack: async () => undefined, release: () => undefined };
}

async function decide(conductor: Conductor, file: string, bytes: Uint8Array): Promise<Decision> {
  try {
    return await conductor.pipeline.check(envelope(file, bytes));
  } catch (error) {
    assert.fail(`check() threw instead of deciding: ${(error as Error).stack}`);
  }
}

/** What the bytes must be refused as before any plugin runs (an independent oracle of parse.ts). */
function earlyRefusal(bytes: Uint8Array): 'CND_ERR_INTENT_ENCODING' | 'CND_ERR_INTENT_PARSE' | undefined {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'CND_ERR_INTENT_ENCODING';
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return 'CND_ERR_INTENT_ENCODING';
  }
  if (text.includes('\u0000') || text.trim() === '') return 'CND_ERR_INTENT_PARSE';
  let value: unknown;
  try {
    value = JSON.parse(text, (key, v: unknown) => {
      if (FORBIDDEN_KEYS.has(key)) throw new Error('forbidden key');
      return v;
    });
  } catch {
    return 'CND_ERR_INTENT_PARSE';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'CND_ERR_INTENT_PARSE';
  const depth = (v: unknown): number => (v !== null && typeof v === 'object' ? 1 + Math.max(0, ...Object.values(v).map(depth)) : 0);
  if (depth(value) > 16) return 'CND_ERR_INTENT_PARSE';
  return undefined;
}

/** Every string in a value (keys too), with its path. */
function* strings(value: unknown, path = 'intent'): Generator<[string, string]> {
  if (typeof value === 'string') yield [path, value];
  else if (Array.isArray(value)) for (const [i, item] of value.entries()) yield* strings(item, `${path}[${i}]`);
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      yield [`${path} key`, key];
      yield* strings(item, `${path}.${key}`);
    }
  }
}

/** The schema invariants of an accepted intent (issue 4, property test). */
function assertAcceptedInvariants(intent: Intent, restricted: boolean): void {
  assert.ok(['scaling', 'deployment', 'configuration'].includes(intent.intent_type), 'intent_type');
  for (const field of ['target', 'namespace'] as const) {
    assert.ok(
      typeof intent[field] === 'string' && DNS_1123.test(intent[field]) && intent[field].length <= 63,
      `${field} is a DNS-1123 label: ${JSON.stringify(intent[field])}`,
    );
  }
  assert.ok(
    Number.isInteger(intent.replicas) && intent.replicas >= 1 && intent.replicas <= 100,
    `replicas ${intent.replicas} is an integer in 1..100`,
  );
  const c = intent.constraints;
  if (c?.min_replicas !== undefined) assert.ok(intent.replicas >= c.min_replicas, 'replicas >= min_replicas');
  if (c?.max_replicas !== undefined) assert.ok(intent.replicas <= c.max_replicas, 'replicas <= max_replicas');
  if (c?.allowed_namespaces !== undefined)
    assert.ok(c.allowed_namespaces.includes(intent.namespace), 'namespace in constraints.allowed_namespaces');
  if (restricted) assert.ok(NAMESPACES_ALLOWED.includes(intent.namespace), 'namespace in the plugin allowedNamespaces');
  for (const [path, s] of strings(intent)) {
    assert.equal(s, s.normalize('NFC'), `${path} is NFC`);
    assert.ok(!CONTROL.test(s), `${path} has no control character`);
    const hit = BLOCKED.find((pattern) => pattern.test(s));
    assert.equal(hit, undefined, `${path} matches no blocked pattern (${hit?.source})`);
    assert.ok(!FORBIDDEN_KEYS.has(s) || !path.endsWith(' key'), `${path} is not a forbidden key`);
    assert.ok(s.isWellFormed(), `${path} is well-formed Unicode (no lone surrogate): ${JSON.stringify(s)}`);
  }
}

/** A decision is either an accepted intent that keeps the invariants, or a refusal with code, stage and security event. */
function assertDecision(decision: Decision, bytes: Uint8Array, restricted: boolean): void {
  assert.match(decision.intentId, /^[0-9a-f]{40}$/, 'an intent id of 40 hex digits');
  assert.ok((decision.intent === undefined) !== (decision.error === undefined), 'exactly one of intent and error');
  const early = earlyRefusal(bytes);
  if (decision.error !== undefined) {
    const error = decision.error;
    assert.ok(error instanceof ConductorError, 'a ConductorError');
    assert.ok(error.code.startsWith('CND_ERR_') && error.code in ERROR_CODES, `a known code (${error.code})`);
    assert.equal(error.kind, 'permanent', `${error.code} is permanent: ${error.message}`);
    assert.ok(['validate', 'sanitize'].includes(error.stage ?? ''), `a stage (${error.stage})`);
    const type = error.details?.['securityEvent'];
    assert.ok(typeof type === 'string' && type.length > 0, `the refusal carries a security event type (${error.code}: ${error.message})`);
    if (early !== undefined) assert.equal(error.code, early, `refused as ${early}: ${error.message}`);
    else
      assert.ok(
        !['CND_ERR_INTENT_ENCODING', 'CND_ERR_INTENT_PARSE'].includes(error.code),
        `one strict JSON object is not refused at parse: ${error.message}`,
      );
  } else {
    assert.equal(early, undefined, `bytes the oracle refuses (${early}) were accepted`);
    assertAcceptedInvariants(decision.intent!, restricted);
  }
}

const params = (numRuns: number) => ({ seed: SEED, numRuns, endOnFailure: true });

test(
  `property: every generated intent gets a sound decision, deterministically (${RUNS} cases, seed ${SEED})`,
  { timeout: 300_000 },
  async (t) => {
    const counts = { accepted: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(serialised(fc.oneof(validIntent, mutatedIntent)), fileName(), fc.boolean(), async (bytes, file, restricted) => {
        const conductor = restricted ? pipelines.restricted! : pipelines.open!;
        const first = await decide(conductor, file, bytes);
        assertDecision(first, bytes, restricted);
        const second = await decide(conductor, file, bytes);
        assert.equal(second.intentId, first.intentId, 'same bytes and name, same intent id');
        assert.equal(second.error?.code, first.error?.code, 'same bytes and name, same decision');
        if (first.error) counts.refused += 1;
        else counts.accepted += 1;
      }),
      params(RUNS),
    );
    t.diagnostic(`decisions: ${JSON.stringify(counts)}`);
    assert.ok(counts.accepted > RUNS / 20 && counts.refused > RUNS / 20, `both outcomes are exercised: ${JSON.stringify(counts)}`);
  },
);

test(
  `property: arbitrary bytes are refused with the right code, never crash (${Math.ceil(RUNS / 4)} cases, seed ${SEED})`,
  { timeout: 300_000 },
  async () => {
    await fc.assert(
      fc.asyncProperty(rawBytes, fileName(), async (bytes, file) => {
        assertDecision(await decide(pipelines.open!, file, bytes), bytes, false);
      }),
      params(Math.ceil(RUNS / 4)),
    );
  },
);

/** Intents that break no rule: no hostile strings, no constraints they violate. */
const cleanIntent = fc.record(
  {
    intent_type: fc.constantFrom('scaling', 'deployment', 'configuration'),
    target: dnsLabel,
    namespace: fc.constantFrom(...NAMESPACES_ALLOWED),
    replicas: fc.integer({ min: 1, max: 100 }),
    reason: fc
      .string({ unit: 'grapheme', maxLength: 60 })
      .filter((s) => s === s.normalize('NFC') && !CONTROL.test(s) && !BLOCKED.some((p) => p.test(s))),
    correlation_id: fc.stringMatching(/^[a-z0-9-]{1,30}$/),
    priority: fc.integer({ min: 0, max: 10 }),
  },
  { requiredKeys: ['intent_type', 'target', 'namespace', 'replicas'] },
);

test(
  `property: intents that break no rule are accepted unchanged (${Math.ceil(RUNS / 10)} cases, seed ${SEED})`,
  { timeout: 120_000 },
  async () => {
    await fc.assert(
      fc.asyncProperty(cleanIntent, fileName(), fc.boolean(), async (intent, file, restricted) => {
        const decision = await decide(restricted ? pipelines.restricted! : pipelines.open!, file, Buffer.from(JSON.stringify(intent)));
        assert.equal(decision.error, undefined, `refused: ${decision.error?.message}`);
        assert.deepEqual(decision.intent, JSON.parse(JSON.stringify(intent)));
      }),
      params(Math.ceil(RUNS / 10)),
    );
  },
);

test(
  `property: the intent id depends only on the name and the content, or on correlation_id alone (${Math.ceil(RUNS / 10)} cases, seed ${SEED})`,
  { timeout: 120_000 },
  async () => {
    await fc.assert(
      fc.asyncProperty(cleanIntent, fileName(), fileName(), async (intent, name, otherName) => {
        const bytes = Buffer.from(JSON.stringify(intent));
        const here = await decide(pipelines.open!, name, bytes);
        const elsewhere = await decide(pipelines.again!, name, Buffer.from(JSON.stringify(intent, null, 2)));
        assert.equal(elsewhere.intentId, here.intentId, 'same name and content (any formatting, another pipeline): same id');
        const renamed = await decide(pipelines.open!, otherName, bytes);
        const sameStem = name.replace(/\.json$/, '') === otherName.replace(/\.json$/, '');
        if (intent.correlation_id !== undefined || sameStem)
          assert.equal(renamed.intentId, here.intentId, 'with a correlation_id the name does not matter');
        else assert.notEqual(renamed.intentId, here.intentId, 'without one, another name is another intent');
      }),
      params(Math.ceil(RUNS / 10)),
    );
  },
);

const nfcSensitive = fc.constantFrom('caf\u00e9', '\u00c5ngstr\u00f6m', '\u1e9b\u0323', '\uac00', 'e\u0301\u0302', 'Zo\u00eb');

test(
  `property: strings are NFC-normalised before identity — NFC and NFD spellings are one intent (${Math.ceil(RUNS / 10)} cases, seed ${SEED})`,
  { timeout: 120_000 },
  async () => {
    await fc.assert(
      fc.asyncProperty(cleanIntent, nfcSensitive, fc.boolean(), fileName(), async (intent, word, inCorrelation, file) => {
        const composed = {
          ...intent,
          reason: word.normalize('NFC'),
          ...(inCorrelation ? { correlation_id: `id-${word.normalize('NFC')}` } : {}),
        };
        const decomposed = {
          ...intent,
          reason: word.normalize('NFD'),
          ...(inCorrelation ? { correlation_id: `id-${word.normalize('NFD')}` } : {}),
        };
        const a = await decide(pipelines.open!, file, Buffer.from(JSON.stringify(composed)));
        const b = await decide(pipelines.open!, file, Buffer.from(JSON.stringify(decomposed)));
        assert.equal(a.error, undefined);
        assert.deepEqual(b.intent, a.intent, 'the same intent once sanitised');
        assert.equal(b.intentId, a.intentId, 'and the same intent id');
      }),
      params(Math.ceil(RUNS / 10)),
    );
  },
);

test(
  `property: an accepted intent still satisfies the intent schema and max_input_length after NFC (${Math.ceil(RUNS / 10)} cases, seed ${SEED})`,
  { timeout: 120_000 },
  async () => {
    await fc.assert(
      fc.asyncProperty(serialised(mutatedIntent), fileName(), async (bytes, file) => {
        const decision = await decide(pipelines.open!, file, bytes);
        if (decision.intent === undefined) return;
        assert.ok(validateSchema(decision.intent), `the submitted intent breaks the schema: ${ajv.errorsText(validateSchema.errors)}`);
        const length = canonicalJson(decision.intent).length;
        assert.ok(
          length <= MAX_INPUT_LENGTH,
          `the submitted intent is ${length} characters, more than max_input_length ${MAX_INPUT_LENGTH}`,
        );
      }),
      params(Math.ceil(RUNS / 10)),
    );
  },
);

test(
  `property, end to end: ${E2E} generated files dropped into handoff/ end where check() predicted (seed ${SEED})`,
  { timeout: 180_000 },
  async (t) => {
    const content = fc.oneof(
      { weight: 4, arbitrary: serialised(validIntent) },
      { weight: 3, arbitrary: serialised(mutatedIntent) },
      { weight: 1, arbitrary: rawBytes },
    );
    const samples = fc.sample(fc.tuple(fileName(), content), { seed: SEED, numRuns: E2E * 2 });
    const h = await Harness.create({ sanitize: { maxInputLength: MAX_INPUT_LENGTH } });
    t.after(() => h.cleanup());
    const expectations: Expect[] = [];
    const predicted = new Map<string, Decision>();
    const names = new Set<string>();
    const ids = new Set<string>();
    for (const [file, bytes] of samples) {
      if (expectations.length >= E2E || names.has(file)) continue;
      const decision = await decide(pipelines.open!, file, bytes);
      // One file per intent id: duplicates and correlation conflicts have cases of their own.
      if (ids.has(decision.intentId)) continue;
      names.add(file);
      ids.add(decision.intentId);
      writeFileSync(h.path(file), bytes);
      predicted.set(file, decision);
      if (!PATTERN.test(file)) expectations.push({ file, outcome: 'untouched' });
      else if (decision.error === undefined) expectations.push({ file, outcome: 'processed' });
      else {
        const type = decision.error.details?.['securityEvent'];
        expectations.push({
          file,
          outcome: 'failed',
          stage: decision.error.stage!,
          code: decision.error.code,
          ...(typeof type === 'string' ? { event: type } : {}),
        });
      }
    }
    const elapsed = await h.runOnce();
    const tally = expectations.reduce<Record<string, number>>((acc, e) => ({ ...acc, [e.outcome]: (acc[e.outcome] ?? 0) + 1 }), {});
    t.diagnostic(`${expectations.length} files (${JSON.stringify(tally)}) in ${Math.round(elapsed)} ms`);
    verify(h, expectations);
    for (const e of expectations) {
      if (e.outcome === 'untouched') continue;
      const recorded = e.outcome === 'failed' ? h.errorOf(e.file)?.intentId : h.statusOf(e.file)?.intentId;
      assert.equal(
        recorded,
        predicted.get(e.file)!.intentId,
        `${JSON.stringify(e.file)}: the intent id on disk is the one check() computed`,
      );
    }
  },
);
