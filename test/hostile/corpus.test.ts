// Issue 4, "Hostile input" and acceptance 3: a corpus of named hostile entries, each run through
// the real pipeline (fs-source → schema-validate → sanitize → git-sink → audit-log) in `once`
// mode, and each ending in its documented outcome (README, "Input rules"): processed, failed
// with a stage and code, untouched, or gone. Cases that need the same configuration share one
// Conductor and one handoff/ (as an attacker would fill it); each case is checked on its own.
// Every run also checks that every refusal was counted as exactly one security event (hook and
// audit log) and nothing else was, that nothing outside handoff/ was read (a canary's atime, a
// FIFO's sentinel byte, a writer-less FIFO nobody may open), that no move failed, and that each
// entry reached its outcome within two seconds of being seen.
// The timing-dependent cases (partial writes, rewrites and deletions while running, a stop
// mid-debounce) are in timing.test.ts; generated input in property.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { canonicalJson } from '../../core/index.ts';
import { Harness, intent, json, watchUnhandled, type HarnessOptions } from './support/harness.ts';
import { verifyEntries, verifyRun, type Expect } from './support/expect.ts';
import { beforeRead } from './support/plugins.ts';

interface Case {
  name: string;
  /**
   * Cases of one group share a Conductor (their entries have distinct names) configured as
   * GROUPS says: a handoff/ holding all of them at once, as an attacker would fill it. Each case
   * is still checked on its own. A group not in GROUPS runs one case on a default Conductor.
   */
  group?: Group | `alone: ${string}`;
  /** Creates the entries in handoff/ (and anything they point at); may return a context for `after`. */
  setup(h: Harness): unknown;
  /** Entries for a second run on the same data directory, after the first one finished (group `later`). */
  later?(h: Harness): unknown;
  /** The documented outcome of every entry; a function when it is known only after the run. */
  expect: Expect[] | ((h: Harness, context: any) => Expect[]);
  /** Further checks after the common ones. */
  after?(h: Harness, context: any): void;
}

const SOURCE_REFUSED = { stage: 'source', code: 'CND_ERR_FILE_REJECTED' } as const;
const PARSE = { stage: 'validate', code: 'CND_ERR_INTENT_PARSE' } as const;
const ENCODING = { stage: 'validate', code: 'CND_ERR_INTENT_ENCODING', event: 'encoding' } as const;
const INVALID = { stage: 'validate', code: 'CND_ERR_INTENT_INVALID' } as const;
const SCHEMA = { ...INVALID, event: 'schema' } as const;
const NAMESPACE = { stage: 'validate', code: 'CND_ERR_INTENT_REJECTED', event: 'namespace-not-allowed' } as const;
const BLOCKED = { stage: 'sanitize', code: 'CND_ERR_INTENT_REJECTED', event: 'blocked-pattern' } as const;
const CONTROL = { stage: 'sanitize', code: 'CND_ERR_INTENT_REJECTED', event: 'control-characters' } as const;

/** Names the source's pattern (intent-*.json) does not take: left in handoff/ as they are. */
const UNMATCHED_NAMES = [
  'intent-x.JSON',
  'x-intent.json',
  '.intent-x.json.tmp',
  'intent-x.json.tmp',
  'intent-x.json~',
  'INTENT-x.json',
  'intent-x.json.swp',
  'notes.txt',
  'intent-x.jsonl',
];

const MAX_FILE_BYTES = 256;
const MAX_INPUT_LENGTH = 300;

/** What a test plugin does to a file between its detection and its read, by file name. */
const swaps = new Map<string, () => void>();

type Group = 'shared' | 'small-files' | 'short-input' | 'namespaces' | 'swapped' | 'later';
const GROUPS: Record<Group, HarnessOptions> = {
  shared: {},
  'small-files': { source: { maxFileBytes: MAX_FILE_BYTES } },
  'short-input': { sanitize: { maxInputLength: MAX_INPUT_LENGTH } },
  namespaces: { validate: { allowedNamespaces: ['oran-odu', 'oran-cu'] } },
  // The claim hook runs just before the source reads a file: the test acts there.
  swapped: { plugins: [beforeRead((name) => swaps.get(name)?.())] },
  later: {},
};

function put(h: Harness, name: string, content: string | Uint8Array, ageMs?: number): string {
  const path = h.path(name);
  writeFileSync(path, content);
  if (ageMs !== undefined) {
    const when = new Date(Date.now() - ageMs);
    utimesSync(path, when, when);
  }
  return path;
}

const bytes = (...parts: (string | number[])[]): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

/** A valid intent whose JSON text is exactly `size` bytes (padded in `reason`). */
function intentOfSize(size: number): string {
  const bare = json(intent({ reason: '' }));
  const text = json(intent({ reason: 'x'.repeat(size - Buffer.byteLength(bare)) }));
  assert.equal(Buffer.byteLength(text), size);
  return text;
}

/** An intent whose canonical form (what sanitize measures) is exactly `length` characters. */
function intentOfLength(length: number): Record<string, unknown> {
  const bare = canonicalJson(intent({ reason: '' })).length;
  const value = intent({ reason: 'y'.repeat(length - bare) });
  assert.equal(canonicalJson(value).length, length);
  return value;
}

/** `constraints` nested so the whole document is `depth` objects deep. */
function nested(depth: number): Record<string, unknown> {
  let inner: Record<string, unknown> = { leaf: true };
  for (let level = 2; level < depth; level += 1) inner = { deeper: inner };
  return intent({ constraints: inner });
}

function mknod(path: string, type: 'c' | 'b', major: number, minor: number): boolean {
  try {
    execFileSync('mknod', [path, type, String(major), String(minor)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A name of exactly `bytes` bytes matching intent-*.json, filled with `fill`. */
function longName(bytes: number, fill = 'a'): string {
  const room = bytes - Buffer.byteLength('intent-.json');
  const unit = Buffer.byteLength(fill);
  let middle = fill.repeat(Math.floor(room / unit));
  middle += 'a'.repeat(room - Buffer.byteLength(middle));
  const name = `intent-${middle}.json`;
  assert.equal(Buffer.byteLength(name), bytes);
  return name;
}

const refusedAt = (file: string, fields: { stage: string; code: string; event?: string | RegExp }): Expect => ({
  file,
  outcome: 'failed',
  ...fields,
});
const ok = (file: string, check?: (h: Harness, file: string) => void): Expect => ({
  file,
  outcome: 'processed',
  ...(check ? { check } : {}),
});

/** One file with the given content, expected to be refused with `fields`. */
function single(
  name: string,
  content: string | Uint8Array | (() => string | Uint8Array),
  fields: { stage: string; code: string; event?: string | RegExp },
  group?: Group,
): Case {
  const file = `intent-${name
    .replace(/[^a-z0-9]+/gi, '-')
    .toLowerCase()
    .slice(0, 60)}.json`;
  return {
    name,
    ...(group ? { group } : {}),
    setup: (h) => void put(h, file, typeof content === 'function' ? content() : content),
    expect: [refusedAt(file, fields)],
  };
}

/** One file expected to be processed. */
function accepted(
  name: string,
  content: string | Uint8Array | (() => string | Uint8Array),
  group?: Group,
  check?: (h: Harness, file: string) => void,
): Case {
  const file = `intent-${name
    .replace(/[^a-z0-9]+/gi, '-')
    .toLowerCase()
    .slice(0, 60)}.json`;
  return {
    name,
    ...(group ? { group } : {}),
    setup: (h) => void put(h, file, typeof content === 'function' ? content() : content),
    expect: [ok(file, check)],
  };
}

const cases: Case[] = [
  // --- Entries that are not regular files: refused by the source without being opened -------
  {
    name: 'symlink inside handoff/ to a valid intent: the link is refused, its target processed',
    setup(h) {
      put(h, 'intent-real.json', json(intent({ target: 'real' })));
      symlinkSync('intent-real.json', h.path('intent-link.json'));
    },
    expect: [ok('intent-real.json'), refusedAt('intent-link.json', { ...SOURCE_REFUSED, event: 'symlink' })],
    after(h) {
      assert.ok(
        lstatSync(join(h.root, 'failed', 'intent-link.json')).isSymbolicLink(),
        'the link itself was moved, not a copy of its target',
      );
    },
  },
  {
    name: 'symlink to a valid intent outside handoff/',
    setup: (h) => symlinkSync('../outside/canary.json', h.path('intent-outside-file.json')),
    expect: [refusedAt('intent-outside-file.json', { ...SOURCE_REFUSED, event: 'symlink' })],
  },
  {
    name: 'symlink to a FIFO outside handoff/ that holds a sentinel byte',
    setup: (h) => symlinkSync('../outside/fifo', h.path('intent-outside-fifo.json')),
    expect: [refusedAt('intent-outside-fifo.json', { ...SOURCE_REFUSED, event: 'symlink' })],
  },
  {
    name: 'symlink to a writer-less FIFO outside handoff/ (a blocking open would hang)',
    setup: (h) => symlinkSync('../outside/empty-fifo', h.path('intent-outside-empty-fifo.json')),
    expect: [refusedAt('intent-outside-empty-fifo.json', { ...SOURCE_REFUSED, event: 'symlink' })],
  },
  {
    name: 'symlink to a directory outside handoff/',
    setup: (h) => symlinkSync('../outside/dir', h.path('intent-outside-dir.json')),
    expect: [refusedAt('intent-outside-dir.json', { ...SOURCE_REFUSED, event: 'symlink' })],
  },
  {
    name: 'dangling symlink',
    setup: (h) => symlinkSync('../outside/does-not-exist.json', h.path('intent-dangling.json')),
    expect: [refusedAt('intent-dangling.json', { ...SOURCE_REFUSED, event: 'symlink' })],
  },
  {
    name: 'symlink loop (a link to itself)',
    setup: (h) => symlinkSync('intent-loop.json', h.path('intent-loop.json')),
    expect: [refusedAt('intent-loop.json', { ...SOURCE_REFUSED, event: 'symlink' })],
  },
  {
    name: 'symlink to /dev/zero',
    setup: (h) => symlinkSync('/dev/zero', h.path('intent-dev-zero.json')),
    expect: [refusedAt('intent-dev-zero.json', { ...SOURCE_REFUSED, event: 'symlink' })],
  },
  {
    name: 'FIFO with no writer named like an intent (the ancestor hung on this)',
    setup: (h) => execFileSync('mkfifo', [h.path('intent-fifo.json')]),
    expect: [refusedAt('intent-fifo.json', { ...SOURCE_REFUSED, event: 'fifo' })],
    after(h) {
      const moved = join(h.root, 'failed', 'intent-fifo.json');
      assert.ok(lstatSync(moved).isFIFO());
      // ENXIO here means nobody has it open for reading: it was never opened (or blocked on).
      assert.throws(() => openSync(moved, constants.O_WRONLY | constants.O_NONBLOCK), { code: 'ENXIO' });
    },
  },
  {
    name: 'FIFO named like an intent, holding a sentinel byte a reader would take',
    setup(h) {
      execFileSync('mkfifo', [h.path('intent-fifo-sentinel.json')]);
      const fd = openSync(h.path('intent-fifo-sentinel.json'), constants.O_RDWR | constants.O_NONBLOCK);
      writeSync(fd, 'S');
      h.onCleanup(() => closeSync(fd));
      return fd;
    },
    expect: [refusedAt('intent-fifo-sentinel.json', { ...SOURCE_REFUSED, event: 'fifo' })],
    after(_h, fd: number) {
      const buffer = Buffer.alloc(4);
      assert.equal(readSync(fd, buffer, 0, 4, null), 1, 'the sentinel is still in the FIFO: nobody read it');
    },
  },
  {
    name: 'directory named like an intent, holding an intent file of its own',
    setup(h) {
      mkdirSync(h.path('intent-dir.json'));
      writeFileSync(join(h.path('intent-dir.json'), 'intent-inner.json'), json(intent({ target: 'inner-leak' })));
    },
    expect: [refusedAt('intent-dir.json', { ...SOURCE_REFUSED, event: 'directory' })],
    after(h) {
      assert.ok(existsSync(join(h.root, 'failed', 'intent-dir.json', 'intent-inner.json')), 'moved whole, its content untouched');
    },
  },
  {
    name: 'unix socket named like an intent, with a server listening on it',
    async setup(h) {
      let connections = 0;
      const server = createServer(() => void (connections += 1));
      await new Promise<void>((resolve) => server.listen(h.path('intent-socket.json'), resolve));
      h.onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
      return () => connections;
    },
    expect: [refusedAt('intent-socket.json', { ...SOURCE_REFUSED, event: 'socket' })],
    after(h, connections: () => number) {
      assert.equal(connections(), 0, 'nobody connected to the socket');
      assert.ok(lstatSync(join(h.root, 'failed', 'intent-socket.json')).isSocket());
    },
  },
  {
    name: 'character device named like an intent (1,5: an endless source of zeros)',
    setup(h) {
      if (mknod(h.path('intent-chardev.json'), 'c', 1, 5)) return 'device';
      // Not root (no CAP_MKNOD): a link to the system's /dev/zero stands in, refused as a symlink.
      symlinkSync('/dev/zero', h.path('intent-chardev.json'));
      return 'symlink';
    },
    expect: (_h, kind: string) => [refusedAt('intent-chardev.json', { ...SOURCE_REFUSED, event: kind })],
    after(h) {
      const entry = lstatSync(join(h.root, 'failed', 'intent-chardev.json'));
      assert.ok(entry.isCharacterDevice() || entry.isSymbolicLink());
    },
  },
  {
    name: 'block device named like an intent (7,0: a loop device)',
    setup(h) {
      if (mknod(h.path('intent-blockdev.json'), 'b', 7, 0)) return 'device';
      symlinkSync('/dev/loop0', h.path('intent-blockdev.json'));
      return 'symlink';
    },
    expect: (_h, kind: string) => [refusedAt('intent-blockdev.json', { ...SOURCE_REFUSED, event: kind })],
  },

  // --- Bytes that are not one strict JSON object --------------------------------------------
  single('empty file', '', { ...PARSE, event: 'empty' }),
  single('whitespace-only file', ' \t\r\n  \n', { ...PARSE, event: 'empty' }),
  single('UTF-8 byte order mark before a valid intent', bytes([0xef, 0xbb, 0xbf], json(intent())), ENCODING),
  single('UTF-16LE with its byte order mark', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(json(intent()), 'utf16le')]), ENCODING),
  single(
    'invalid UTF-8: a lone 0xFF byte in a string',
    bytes('{"intent_type":"scaling","target":"odu","namespace":"oran-odu","replicas":2,"reason":"', [0xff], '"}'),
    ENCODING,
  ),
  single(
    'invalid UTF-8: an overlong encoding of "/"',
    bytes('{"intent_type":"scaling","target":"odu","namespace":"oran-odu","replicas":2,"reason":"..', [0xc0, 0xaf], 'etc"}'),
    ENCODING,
  ),
  single(
    'invalid UTF-8: an encoded UTF-16 surrogate',
    bytes('{"intent_type":"scaling","target":"odu","namespace":"oran-odu","replicas":2,"reason":"', [0xed, 0xa0, 0x80], '"}'),
    ENCODING,
  ),
  single('invalid UTF-8: a multi-byte sequence cut off at the end', bytes(json(intent()), [0xe2, 0x82]), ENCODING),
  single(
    'a raw NUL byte inside a string',
    bytes('{"intent_type":"scaling","target":"odu","namespace":"oran-odu","replicas":2,"reason":"a', [0x00], 'b"}'),
    { ...PARSE, event: 'nul-byte' },
  ),
  single('a NUL byte after the JSON value', bytes(json(intent()), [0x00]), { ...PARSE, event: 'nul-byte' }),
  single(
    'an escaped \\u0000 in reason',
    '{"intent_type":"scaling","target":"odu","namespace":"oran-odu","replicas":2,"reason":"a\\u0000b"}',
    CONTROL,
  ),
  single('trailing data: a second JSON value', `${json(intent())} {}`, { ...PARSE, event: 'malformed-json' }),
  single('trailing data: garbage after the object', `${json(intent())}x`, { ...PARSE, event: 'malformed-json' }),
  accepted('trailing white space after the object is fine', `${json(intent())}\n\n \t`),
  single('a top-level array', `[${json(intent())}]`, { ...PARSE, event: 'malformed-json' }),
  single('a top-level string', '"intent"', { ...PARSE, event: 'malformed-json' }),
  single('truncated JSON', json(intent()).slice(0, 40), { ...PARSE, event: 'malformed-json' }),
  single('__proto__ key at the top level', `{"__proto__":{"polluted":true},${json(intent()).slice(1)}`, {
    ...PARSE,
    event: 'forbidden-key',
  }),
  single('__proto__ spelled with a unicode escape', `{"\\u005f_proto__":{"polluted":true},${json(intent()).slice(1)}`, {
    ...PARSE,
    event: 'forbidden-key',
  }),
  single('constructor key inside constraints', json(intent({ constraints: { constructor: { prototype: {} } } })), {
    ...PARSE,
    event: 'forbidden-key',
  }),
  single('prototype key inside constraints', json(intent({ constraints: { prototype: 1 } })), { ...PARSE, event: 'forbidden-key' }),
  single('nesting 17 levels deep', json(nested(17)), { ...PARSE, event: 'deep-nesting' }),
  accepted('nesting exactly 16 levels deep is accepted', json(nested(16))),
  single(
    '100,000 nested arrays (a stack-exhaustion attempt)',
    () => `${json(intent()).slice(0, -1)},"constraints":{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`,
    { ...PARSE, event: /^(deep-nesting|malformed-json)$/ },
  ),
  single('a duplicate key whose last value (replicas 500) wins', `${json(intent({ replicas: 3 })).slice(0, -1)},"replicas":500}`, SCHEMA),

  // --- Size (fs-source maxFileBytes = 256) ---------------------------------------------------
  accepted('a valid intent of exactly maxFileBytes', () => intentOfSize(MAX_FILE_BYTES), 'small-files'),
  single('one byte over maxFileBytes', () => intentOfSize(MAX_FILE_BYTES + 1), { ...SOURCE_REFUSED, event: 'oversize' }, 'small-files'),
  {
    name: 'a sparse 1 GiB file (refused before reading)',
    group: 'small-files',
    setup(h) {
      put(h, 'intent-huge.json', '');
      truncateSync(h.path('intent-huge.json'), 1024 ** 3);
    },
    expect: [refusedAt('intent-huge.json', { ...SOURCE_REFUSED, event: 'oversize' })],
  },

  // --- Schema (DNS-1123 names, replicas 1–100 integer, known fields) ------------------------
  single('replicas 2.5', json(intent({ replicas: 2.5 })), SCHEMA),
  single('replicas 0', json(intent({ replicas: 0 })), SCHEMA),
  single('replicas 101', json(intent({ replicas: 101 })), SCHEMA),
  single('replicas -1', json(intent({ replicas: -1 })), SCHEMA),
  single('replicas as the string "5"', json(intent({ replicas: '5' })), SCHEMA),
  single('replicas 1e400 (Infinity)', json(intent()).replace('"replicas":3', '"replicas":1e400'), SCHEMA),
  accepted(
    'replicas written as 1e2 is the integer 100',
    json(intent({ target: 'odu-1e2' })).replace('"replicas":3', '"replicas":1e2'),
    'shared',
    (h, file) => {
      assert.match(h.commitFor(file)!.subject, /to 100 replicas/);
    },
  ),
  single('replicas missing', json({ intent_type: 'scaling', target: 'odu', namespace: 'oran-odu' }), SCHEMA),
  single('target with upper-case letters', json(intent({ target: 'ODU-High' })), SCHEMA),
  single('target with an underscore', json(intent({ target: 'odu_high' })), SCHEMA),
  single('target starting with a hyphen', json(intent({ target: '-odu' })), SCHEMA),
  single('target of 64 characters', json(intent({ target: 'a'.repeat(64) })), SCHEMA),
  single('target with a path traversal', json(intent({ target: '../../etc' })), SCHEMA),
  single('target with a non-ASCII letter', json(intent({ target: 'odü' })), SCHEMA),
  single('namespace with a dot', json(intent({ namespace: 'kube.system' })), SCHEMA),
  single('namespace empty', json(intent({ namespace: '' })), SCHEMA),
  single('namespace with upper-case letters', json(intent({ namespace: 'Oran-ODU' })), SCHEMA),
  single(
    'namespace outside constraints.allowed_namespaces',
    json(intent({ namespace: 'kube-system', constraints: { allowed_namespaces: ['oran-odu'] } })),
    NAMESPACE,
  ),
  single('namespace outside the plugin allowedNamespaces', json(intent({ namespace: 'kube-system' })), NAMESPACE, 'namespaces'),
  single('replicas above constraints.max_replicas', json(intent({ replicas: 5, constraints: { max_replicas: 4 } })), INVALID),
  single('replicas below constraints.min_replicas', json(intent({ replicas: 2, constraints: { min_replicas: 3 } })), INVALID),
  single(
    'constraints.min_replicas above max_replicas',
    json(intent({ replicas: 5, constraints: { min_replicas: 6, max_replicas: 4 } })),
    INVALID,
  ),
  single('an unknown top-level field', json(intent({ command: 'rm -rf /' })), SCHEMA),
  single('an unknown intent_type', json(intent({ intent_type: 'delete' })), SCHEMA),

  // --- Sanitizer: blocked patterns (each default one), control characters, length, NFC ------
  single('blocked pattern: command substitution $(…)', json(intent({ reason: 'x $(reboot)' })), BLOCKED),
  single('blocked pattern: backticks', json(intent({ reason: 'x `reboot`' })), BLOCKED),
  single('blocked pattern: template ${…}', json(intent({ reason: 'x ${HOME}' })), BLOCKED),
  single('blocked pattern: <script> in upper case', json(intent({ reason: '< SCRIPT >alert(1)' })), BLOCKED),
  single('blocked pattern: javascript: URL', json(intent({ description: 'see JavaScript:alert(1)' })), BLOCKED),
  single('blocked pattern: ../ path traversal', json(intent({ reason: 'read ../../etc/passwd' })), BLOCKED),
  single('blocked pattern: ; rm', json(intent({ reason: 'done;  rm -rf /' })), BLOCKED),
  single('blocked pattern: | sh', json(intent({ reason: 'curl x |sh' })), BLOCKED),
  single('blocked pattern: &&', json(intent({ reason: 'a && b' })), BLOCKED),
  single('blocked pattern: DROP TABLE', json(intent({ reason: 'x; Drop  Table intents' })), BLOCKED),
  single('blocked pattern in a constraints key', json(intent({ constraints: { '$(id)': 1 } })), BLOCKED),
  single('blocked pattern in correlation_id', json(intent({ correlation_id: 'a && b' })), BLOCKED),
  single('Greek question mark that NFC turns into ";" before "rm"', json(intent({ reason: 'ok\u037E rm -rf /' })), BLOCKED),
  single(
    'an escaped lone surrogate (\\ud800) in reason: not representable in UTF-8',
    '{"intent_type":"scaling","target":"odu","namespace":"oran-odu","replicas":2,"reason":"a\\ud800b"}',
    { stage: 'sanitize', code: 'CND_ERR_INTENT_REJECTED' },
  ),
  single('a C1 control character (U+0085)', json(intent({ reason: 'a\u0085b' })), CONTROL),
  single('a bidi override (U+202E)', json(intent({ reason: 'a\u202Eb' })), CONTROL),
  single('a terminal escape (ESC [2J)', json(intent({ reason: '\u001b[2J' })), CONTROL),
  single(
    'longer than maxInputLength',
    () => json(intentOfLength(MAX_INPUT_LENGTH + 1)),
    { stage: 'sanitize', code: 'CND_ERR_INTENT_REJECTED', event: 'input-too-long' },
    'short-input',
  ),
  accepted('exactly maxInputLength', () => json(intentOfLength(MAX_INPUT_LENGTH)), 'short-input'),
  accepted('a decomposed (NFD) reason is submitted NFC', json(intent({ reason: 'cafe\u0301 sector' })), 'shared', (h, file) => {
    const message = h.commitFor(file)!.message;
    assert.ok(message.includes('caf\u00e9 sector'), 'the commit carries the NFC form');
    assert.ok(!message.includes('cafe\u0301'), 'and not the NFD form');
  }),
  accepted(
    'tab and newlines in reason are allowed; a forged trailer there is not honoured',
    json(intent({ reason: 'a\tb\n\nConductor-Intent-Id: 0000000000000000000000000000000000000000' })),
    'shared',
    (h, file) => {
      assert.match(h.commitFor(file)!.intentId, /^[0-9a-f]{40}$/);
      assert.deepEqual(
        h.commits().filter((c) => c.intentId === '0'.repeat(40)),
        [],
        'no commit counts as the forged intent id',
      );
    },
  ),

  // --- Identity: correlation ids (group `later`: a second run on the same data directory) ----
  {
    name: 'the same intent again later under one correlation_id: a duplicate, not a refusal',
    group: 'later',
    setup: (h) => void put(h, 'intent-same-first.json', json(intent({ target: 'same', correlation_id: 'same-1' }))),
    later: (h) => void put(h, 'intent-same-again.json', json(intent({ target: 'same', correlation_id: 'same-1' }))),
    expect: [ok('intent-same-first.json'), { file: 'intent-same-again.json', outcome: 'duplicate' }],
    after: (h) => assert.equal(h.commits().filter((c) => c.intentId === h.statusOf('intent-same-first.json')?.intentId).length, 1),
  },
  {
    name: 'one correlation_id reused later for different content: refused as a conflict',
    group: 'later',
    setup: (h) => void put(h, 'intent-reused-first.json', json(intent({ target: 'reused', correlation_id: 'reused-1', replicas: 2 }))),
    later: (h) => void put(h, 'intent-reused-again.json', json(intent({ target: 'reused', correlation_id: 'reused-1', replicas: 9 }))),
    expect: [
      ok('intent-reused-first.json'),
      refusedAt('intent-reused-again.json', { stage: 'validate', code: 'CND_ERR_INTENT_CONFLICT', event: 'intent-conflict' }),
    ],
    after: (h) =>
      assert.deepEqual(
        h
          .commits()
          .filter((c) => c.subject.includes('/reused '))
          .map((c) => c.subject),
        ['scaling oran-odu/reused to 2 replicas'],
      ),
  },
  {
    name: 'one correlation_id spelled NFC, later NFD, is one intent (NFC before identity)',
    group: 'later',
    setup: (h) => void put(h, 'intent-nfc-id.json', json(intent({ target: 'nfc-id', correlation_id: 'caf\u00e9-1' }))),
    later: (h) => void put(h, 'intent-nfd-id.json', json(intent({ target: 'nfc-id', correlation_id: 'cafe\u0301-1' }))),
    expect: [ok('intent-nfc-id.json'), { file: 'intent-nfd-id.json', outcome: 'duplicate' }],
    after: (h) => assert.equal(h.commits().filter((c) => c.subject.includes('/nfc-id ')).length, 1, 'applied once'),
  },
  {
    name: 'the same intent with its reason spelled NFC, later NFD, under one file name is one intent',
    group: 'later',
    setup: (h) => void put(h, 'intent-nfc-reason.json', json(intent({ target: 'nfc-reason', reason: 'caf\u00e9' }))),
    later: (h) => void put(h, 'intent-nfc-reason.json', json(intent({ target: 'nfc-reason', reason: 'cafe\u0301' }))),
    expect: [{ file: 'intent-nfc-reason.json', outcome: 'duplicate' }],
    after(h) {
      assert.deepEqual(
        h.processed().filter((n) => n.startsWith('intent-nfc-reason')),
        ['intent-nfc-reason.1.json', 'intent-nfc-reason.json'],
      );
      assert.equal(h.commits().filter((c) => c.subject.includes('/nfc-reason ')).length, 1, 'applied once');
    },
  },
  {
    name: 'one correlation_id reused for different content, both dropped at once: one submitted, the other refused',
    group: 'alone: concurrent conflict',
    setup(h) {
      put(h, 'intent-conflict-a.json', json(intent({ correlation_id: 'reused-2', target: 'odu-a', replicas: 2 })));
      put(h, 'intent-conflict-b.json', json(intent({ correlation_id: 'reused-2', target: 'odu-b', replicas: 9 })));
    },
    expect(h) {
      const winner = h.settled.find((o) => o.status === 'succeeded')?.file ?? 'intent-conflict-a.json';
      const loser = winner === 'intent-conflict-a.json' ? 'intent-conflict-b.json' : 'intent-conflict-a.json';
      return [ok(winner), refusedAt(loser, { stage: 'validate', code: 'CND_ERR_INTENT_CONFLICT', event: 'intent-conflict' })];
    },
    after: (h) => assert.equal(h.commits().length, 1),
  },

  // --- File names --------------------------------------------------------------------------
  {
    name: 'names that do not match intent-*.json are left alone (even a FIFO, a link, a directory)',
    setup(h) {
      for (const name of UNMATCHED_NAMES) put(h, name, json(intent()));
      execFileSync('mkfifo', [h.path('intent-fifo.json.part')]);
      symlinkSync('../outside/canary.json', h.path('canary.json'));
      mkdirSync(h.path('intent-folder'));
    },
    expect: [...UNMATCHED_NAMES, 'intent-fifo.json.part', 'canary.json', 'intent-folder'].map((file): Expect => ({
      file,
      outcome: 'untouched',
    })),
    after(h) {
      assert.throws(
        () => openSync(h.path('intent-fifo.json.part'), constants.O_WRONLY | constants.O_NONBLOCK),
        { code: 'ENXIO' },
        'the FIFO was never opened',
      );
    },
  },
  {
    name: 'a unicode file name (CJK, emoji, RTL)',
    setup: (h) => void put(h, 'intent-扩容-🚀-שלום.json', json(intent())),
    expect: [ok('intent-扩容-🚀-שלום.json')],
  },
  {
    name: 'NFC and NFD spellings of one file name are two files, both processed',
    setup(h) {
      put(h, 'intent-caf\u00e9.json', json(intent({ target: 'cafe-a' })));
      put(h, 'intent-cafe\u0301.json', json(intent({ target: 'cafe-b' })));
    },
    expect: [ok('intent-caf\u00e9.json'), ok('intent-cafe\u0301.json')],
    after: (h) => assert.notEqual(h.commitFor('intent-caf\u00e9.json')!.hash, h.commitFor('intent-cafe\u0301.json')!.hash),
  },
  {
    name: 'a file name with spaces, quotes, a leading dash and shell syntax',
    setup: (h) => void put(h, `intent- -rf "$(reboot)" 'x' ; \`id\` .json`, json(intent())),
    expect: [ok(`intent- -rf "$(reboot)" 'x' ; \`id\` .json`)],
  },
  {
    name: 'a file name with newlines and a forged trailer',
    setup: (h) => void put(h, 'intent-x\n\nConductor-Intent-Id: 1111111111111111111111111111111111111111\n.json', json(intent())),
    expect: [ok('intent-x\n\nConductor-Intent-Id: 1111111111111111111111111111111111111111\n.json')],
    after(h) {
      assert.deepEqual(
        h.commits().filter((c) => c.intentId === '1'.repeat(40)),
        [],
        'no commit counts as the forged intent id',
      );
    },
  },
  {
    name: 'the shortest matching name, intent-.json',
    setup: (h) => void put(h, 'intent-.json', json(intent())),
    expect: [ok('intent-.json')],
  },
  {
    name: 'a 255-byte file name (the file-system maximum), valid content',
    setup: (h) => void put(h, longName(255), json(intent())),
    expect: [ok(longName(255))],
  },
  {
    name: 'a 255-byte file name, invalid content',
    setup: (h) => void put(h, longName(255, 'b'), '{"broken"'),
    expect: [refusedAt(longName(255, 'b'), { ...PARSE, event: 'malformed-json' })],
  },
  {
    name: 'a 255-byte file name of multi-byte characters',
    setup: (h) => void put(h, longName(255, 'ü'), json(intent())),
    expect: [ok(longName(255, 'ü'))],
  },
  {
    name: 'a file name of 200 bytes',
    setup: (h) => void put(h, longName(200), json(intent())),
    expect: [ok(longName(200))],
  },
  {
    name: 'a file name with bytes that are not UTF-8 leaves handoff/ and is counted',
    group: 'alone: a name that is not UTF-8',
    setup(h) {
      writeFileSync(Buffer.concat([Buffer.from(`${h.handoff}/intent-`), Buffer.from([0xff, 0xfe]), Buffer.from('.json')]), json(intent()));
    },
    // The entry cannot be named as a JavaScript string; the contract still applies to it.
    expect: (h) => (h.security.length > 0 ? [refusedAt(h.security[0]!.file, { ...SOURCE_REFUSED, event: /./ })] : []),
    after(h) {
      const left = readdirSync(h.handoff, { encoding: 'buffer' });
      assert.deepEqual(
        left.map((name) => name.toString('hex')),
        [],
        'every entry whose name matches ends in processed/ or failed/ — this one is still in handoff/, never reported',
      );
    },
  },

  // --- Swapped between detection and read (group `swapped`: the claim hook acts) ----------
  {
    name: 'a file replaced by a symlink to outside handoff/ after it was detected',
    group: 'swapped',
    setup(h) {
      put(h, 'intent-swap-link.json', json(intent()));
      swaps.set('intent-swap-link.json', () => {
        rmSync(h.path('intent-swap-link.json'));
        symlinkSync('../outside/canary.json', h.path('intent-swap-link.json'));
      });
    },
    expect: [refusedAt('intent-swap-link.json', { ...SOURCE_REFUSED, event: 'symlink' })],
  },
  {
    name: 'a file replaced by a writer-less FIFO after it was detected',
    group: 'swapped',
    setup(h) {
      put(h, 'intent-swap-fifo.json', json(intent()));
      swaps.set('intent-swap-fifo.json', () => {
        rmSync(h.path('intent-swap-fifo.json'));
        execFileSync('mkfifo', [h.path('intent-swap-fifo.json')]);
      });
    },
    expect: [refusedAt('intent-swap-fifo.json', { ...SOURCE_REFUSED, event: 'fifo' })],
  },
  {
    name: 'a file replaced by a directory after it was detected',
    group: 'swapped',
    setup(h) {
      put(h, 'intent-swap-dir.json', json(intent()));
      swaps.set('intent-swap-dir.json', () => {
        rmSync(h.path('intent-swap-dir.json'));
        mkdirSync(h.path('intent-swap-dir.json'));
      });
    },
    expect: [refusedAt('intent-swap-dir.json', { ...SOURCE_REFUSED, event: 'directory' })],
  },
  {
    name: 'a file deleted after it was detected: no outcome, no false failure',
    group: 'swapped',
    setup(h) {
      put(h, 'intent-vanishing.json', json(intent({ target: 'vanishing' })));
      put(h, 'intent-staying.json', json(intent({ target: 'staying' })));
      swaps.set('intent-vanishing.json', () => rmSync(h.path('intent-vanishing.json')));
    },
    expect: [{ file: 'intent-vanishing.json', outcome: 'gone' }, ok('intent-staying.json')],
  },
  {
    name: 'a file renamed to a non-matching name after it was detected (a producer taking it back)',
    group: 'swapped',
    setup(h) {
      put(h, 'intent-taken-back.json', json(intent({ target: 'taken-back' })));
      swaps.set('intent-taken-back.json', () => renameSync(h.path('intent-taken-back.json'), h.path('taken-back.json')));
    },
    expect: [
      { file: 'intent-taken-back.json', outcome: 'gone' },
      { file: 'taken-back.json', outcome: 'untouched' },
    ],
  },
];

const expectationsOf = (c: Case, h: Harness, context: unknown): Expect[] =>
  typeof c.expect === 'function' ? c.expect(h, context) : c.expect;

const summary = (h: Harness, files: Set<string>): string =>
  h.settled
    .filter((o) => files.has(o.file))
    .map((o) => `${o.status}${o.code ? ` ${o.code}` : ''} at ${o.stage}`)
    .join(', ') || 'no outcome';

test('the corpus has at least 40 named cases, all different', () => {
  assert.ok(cases.length >= 40, `${cases.length} cases`);
  assert.equal(new Set(cases.map((c) => c.name)).size, cases.length);
});

const groups = new Map<string, Case[]>();
for (const c of cases) groups.set(c.group ?? 'shared', [...(groups.get(c.group ?? 'shared') ?? []), c]);

for (const [group, members] of groups) {
  const title = members.length === 1 ? `hostile: ${members[0]!.name}` : `hostile corpus, ${group}: ${members.length} cases in one handoff/`;
  test(title, { timeout: 60_000 }, async (t) => {
    const errors = watchUnhandled(t);
    const options = (GROUPS as Record<string, HarnessOptions | undefined>)[group] ?? {};
    let h = await Harness.create(options);
    t.after(() => h.cleanup());
    const contexts = new Map<Case, unknown>();
    for (const c of members) contexts.set(c, await c.setup(h));
    let elapsed = await h.runOnce();
    if (members.some((c) => c.later)) {
      h = await h.next(options);
      for (const c of members) await c.later?.(h);
      elapsed = await h.runOnce();
    }
    t.diagnostic(`${members.length} case(s), ${h.settled.length} outcome(s) in ${Math.round(elapsed)} ms`);
    const all: Expect[] = [];
    for (const c of members) {
      const expectations = expectationsOf(c, h, contexts.get(c));
      all.push(...expectations);
      const check = () => {
        verifyEntries(h, expectations);
        c.after?.(h, contexts.get(c));
      };
      if (members.length === 1) check();
      else
        await t.test(c.name, (st) => {
          check();
          st.diagnostic(summary(h, new Set(expectations.map((e) => e.file))));
        });
    }
    // The whole run within the bound when it is one case; per entry (verifyEntries) otherwise.
    verifyRun(h, all, members.length === 1 ? elapsed : undefined);
    assert.deepEqual(errors, [], 'no unhandled error');
  });
}
