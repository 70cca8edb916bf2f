// The listing of handoff/ at start and on rescans: the matching names not being processed,
// oldest first (by modification time, then name), a name that is not UTF-8 renamed so that it
// can be refused, and an entry gone between the listing and its lstat left out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataDir } from '../../core/data-dir/data-dir.ts';
import { silentLogger } from '../../core/log.ts';
import { AdmissionQueue } from '../../plugins/fs-source/queue.ts';
import type { EntryReader } from '../../plugins/fs-source/reader.ts';
import { Scanner } from '../../plugins/fs-source/scanner.ts';
import { makeDataDir } from '../support/data-dir.ts';

const PATTERN = /^intent-.*\.json$/;

function setUp(matches: RegExp = PATTERN) {
  const data = makeDataDir();
  const dataDir = new DataDir(data.root);
  const queue = new AdmissionQueue({ matches: PATTERN, once: false, reportBacklog: () => undefined, log: silentLogger() });
  const reader = { renamedNames: new Set<string>() } as unknown as EntryReader;
  const scanner = new Scanner({ dataDir, matches, queue, reader, log: silentLogger() });
  /** Writes `name` (a string, or raw bytes) with a modification time `seconds` after 2023-11-14. */
  const drop = (name: string | Buffer, seconds: number) => {
    const path = typeof name === 'string' ? join(data.handoff, name) : Buffer.concat([Buffer.from(`${data.handoff}/`), name]);
    writeFileSync(path, '{}');
    utimesSync(path, 1_700_000_000 + seconds, 1_700_000_000 + seconds);
  };
  return { data, queue, reader, scanner, drop };
}

test('the listing is the matching names not being processed, oldest first, then by name', async (t) => {
  const { data, queue, scanner, drop } = setUp();
  t.after(() => data.cleanup());
  drop('intent-c.json', 30);
  drop('intent-a.json', 20);
  drop('intent-b.json', 20);
  drop('intent-old.json', 10);
  drop('intent-busy.json', 5);
  drop('notes.txt', 1);
  drop('.intent-half.json.tmp', 1);
  mkdirSync(join(data.handoff, 'intent-dir.json'));
  utimesSync(join(data.handoff, 'intent-dir.json'), 1_700_000_025, 1_700_000_025);
  queue.active.add('intent-busy.json');
  await scanner.scan();
  // A directory that matches is listed like a file: its admission refuses it.
  assert.deepEqual([...queue.waiting], ['intent-old.json', 'intent-a.json', 'intent-b.json', 'intent-dir.json', 'intent-c.json']);
});

test('a name that is not UTF-8 is renamed to one a string can hold, noted for refusal, and listed', async (t) => {
  const { data, queue, reader, scanner, drop } = setUp();
  t.after(() => data.cleanup());
  drop('intent-new.json', 20);
  drop(Buffer.concat([Buffer.from('intent-'), Buffer.from([0xff, 0xfe]), Buffer.from('.json')]), 10);
  await scanner.scan();
  const renamed = 'intent-\uFFFD\uFFFD.json';
  assert.deepEqual([...queue.waiting], [renamed, 'intent-new.json']);
  assert.deepEqual([...reader.renamedNames], [renamed]);
  assert.deepEqual(
    readdirSync(data.handoff, { encoding: 'buffer' }).filter((name) => name.includes(0xff)),
    [],
    'the raw name is gone',
  );
});

test('an entry gone between the listing and its lstat is left out', async (t) => {
  // The pattern is consulted for each listed name before its lstat: removing the file there
  // is the claim (or the producer's unlink) that lands in between.
  const gone = 'intent-gone.json';
  class Vanishing extends RegExp {
    override test(name: string): boolean {
      if (name === gone && existsSync(join(data.handoff, gone))) unlinkSync(join(data.handoff, gone));
      return super.test(name);
    }
  }
  const { data, queue, scanner, drop } = setUp(new Vanishing(PATTERN.source));
  t.after(() => data.cleanup());
  drop('intent-kept.json', 10);
  drop(gone, 5);
  await scanner.scan();
  assert.deepEqual([...queue.waiting], ['intent-kept.json']);
});

test('a listing larger than one directory read and than the lstat calls in flight is complete and in order', async (t) => {
  const { data, queue, scanner, drop } = setUp();
  t.after(() => data.cleanup());
  const count = 1_000;
  // Modification times in an order unrelated to the names or to the order they were written
  // (7919 is prime, so each of the 1,000 seconds is used once).
  const files = Array.from({ length: count }, (_, i) => ({
    name: `intent-${String(i).padStart(4, '0')}.json`,
    seconds: (i * 7919) % count,
  }));
  for (const { name, seconds } of files) drop(name, seconds);
  const expected = files.toSorted((a, b) => a.seconds - b.seconds).map((f) => f.name);
  await scanner.scan();
  assert.deepEqual([...queue.waiting], expected);
});
