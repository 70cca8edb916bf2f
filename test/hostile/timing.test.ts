// Issue 4, "Hostile input": the cases that depend on when things happen, run against a real
// Conductor in `run` mode (chokidar watching handoff/): a producer that pauses mid-file, a file
// rewritten or deleted while it is being processed, hostile entries created while Conductor
// watches, and a stop while a file waits out its debounce. "While it is being processed" is a
// state the test waits for (a test plugin holds the intent at submit, or its failure at audit),
// not a guess about timing. The only deliberate delay is a producer's pause mid-file, which is
// the scenario itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as pause } from 'node:timers/promises';
import type { Intent, Outcome } from '../../core/index.ts';
import { waitFor } from '../support/wait.ts';
import { Harness, intent, json, watchUnhandled, type HarnessOptions } from './support/harness.ts';
import { BOUND_MS, verify, type Expect } from './support/expect.ts';
import { Gate, holdFailure, holdSubmit } from './support/plugins.ts';

async function running(t: { after(fn: () => unknown): void }, options: HarnessOptions): Promise<Harness> {
  const h = await Harness.create({ mode: 'run', ...options, source: { rescanMs: 0, ...options.source } });
  t.after(() => h.cleanup());
  await h.start();
  return h;
}

/** Waits until `file` reached a terminal outcome; returns it. */
const outcomeOf = (h: Harness, file: string, nth = 1): Promise<Outcome> =>
  waitFor(`outcome #${nth} of ${file}`, () => h.settled.filter((o) => o.file === file)[nth - 1], 5_000, 5);

const A = json(intent({ target: 'rewritten', replicas: 2 }));
const B = json(intent({ target: 'rewritten', replicas: 7 })); // same length as A
assert.equal(A.length, B.length);

test(
  'partial write, pause shorter than debounceMs: the debounce covers it; the whole intent is processed',
  { timeout: 20_000 },
  async (t) => {
    const errors = watchUnhandled(t);
    const h = await running(t, { source: { debounceMs: 400 } });
    const text = json(intent({ target: 'slow-writer', reason: 'written in two halves' }));
    const fd = openSync(h.path('intent-slow.json'), 'w');
    writeSync(fd, text.slice(0, 30));
    const WRITER_PAUSE_MS = 150; // the producer's pause mid-file: the scenario, not synchronisation
    await pause(WRITER_PAUSE_MS);
    writeSync(fd, text.slice(30));
    closeSync(fd);
    await outcomeOf(h, 'intent-slow.json');
    await h.stop();
    verify(h, [{ file: 'intent-slow.json', outcome: 'processed' }]);
    assert.equal(readFileSync(join(h.root, 'processed', 'intent-slow.json'), 'utf8'), text);
    assert.match(h.commitFor('intent-slow.json')!.message, /written in two halves/);
    assert.deepEqual(errors, []);
  },
);

const STALLED =
  'partial write, pause longer than debounceMs, the rest written after the failure was recorded: failed/ keeps the half that failed';
test(STALLED, { timeout: 20_000 }, async (t) => {
  // After debounceMs of stillness the half file is read and fails to parse; it stays unchanged
  // for one more debounceMs, so the failure is final (one security event) and failed/ receives
  // the bytes that failed, beside an error.json naming the parse error. The producer's later
  // writes go to its own open file, no longer in handoff/: they cannot change the failed copy.
  // Producers must rename into handoff/ atomically or finish within debounceMs (README).
  const errors = watchUnhandled(t);
  const h = await running(t, { source: { debounceMs: 100 } });
  const text = json(intent({ target: 'stalled-writer' }));
  const fd = openSync(h.path('intent-stalled.json'), 'w');
  t.after(() => closeSync(fd));
  writeSync(fd, text.slice(0, 30));
  // The producer stalls until Conductor has given up on the half file (longer than debounceMs).
  await outcomeOf(h, 'intent-stalled.json');
  writeSync(fd, text.slice(30));
  await h.stop();
  verify(h, [{ file: 'intent-stalled.json', outcome: 'failed', stage: 'validate', code: 'CND_ERR_INTENT_PARSE', event: 'malformed-json' }]);
  const kept = readFileSync(join(h.root, 'failed', 'intent-stalled.json'), 'utf8');
  assert.equal(kept, text.slice(0, 30), 'failed/ keeps the bytes that failed');
  assert.equal(h.commits().length, 0);
  assert.deepEqual(errors, []);
});

test(
  'partial write, pause longer than debounceMs, the rest written while the failure is being recorded: offered again, then processed',
  { timeout: 20_000 },
  async (t) => {
    // README: "a file rewritten while being processed: not moved; offered again so its new
    // content is submitted (or failed) on its own". Here the rewrite is the producer finishing.
    const errors = watchUnhandled(t);
    const gate = new Gate<Outcome>();
    const h = await running(t, { source: { debounceMs: 100 }, plugins: [holdFailure('intent-resumed.json', gate)] });
    const text = json(intent({ target: 'resumed-writer' }));
    const fd = openSync(h.path('intent-resumed.json'), 'w');
    writeSync(fd, text.slice(0, 30));
    const failure = await gate.waiting; // the half file failed to parse; its outcome is being recorded
    assert.equal(failure.code, 'CND_ERR_INTENT_PARSE');
    writeSync(fd, text.slice(30));
    closeSync(fd);
    gate.open();
    const done = await outcomeOf(h, 'intent-resumed.json', 2);
    assert.equal(done.status, 'succeeded', done.message);
    await h.stop();
    assert.deepEqual(h.failed(), [], 'the half file was not moved to failed/');
    assert.deepEqual(h.processed(), ['intent-resumed.json']);
    assert.equal(readFileSync(join(h.root, 'processed', 'intent-resumed.json'), 'utf8'), text);
    assert.equal(h.statusOf('intent-resumed.json')?.status, 'succeeded');
    assert.equal(h.commits().length, 1);
    // The refusal of the half file was still a refusal, and counted as one.
    assert.deepEqual(
      h.security.map((e) => e.type),
      ['malformed-json'],
    );
    assert.deepEqual(h.errors(), []);
    assert.deepEqual(errors, []);
  },
);

/**
 * A file rewritten while its first content is held at submit. `rewrite` changes the file; the
 * README's rule: the first content is submitted, the file is not moved but offered again, and
 * its new content is then submitted (or failed) on its own — never recorded as done unsubmitted.
 */
async function rewriteWhileSubmitting(t: { after(fn: () => unknown): void }, rewrite: (path: string) => void) {
  const gate = new Gate<Intent>();
  const h = await running(t, { plugins: [holdSubmit('intent-rewritten.json', gate)] });
  const path = h.path('intent-rewritten.json');
  // Renamed in atomically, with an mtime of a whole second (so it can be restored exactly).
  writeFileSync(`${path}.tmp`, A);
  utimesSync(`${path}.tmp`, 1_700_000_000, 1_700_000_000);
  renameSync(`${path}.tmp`, path);
  const held = await gate.waiting;
  assert.equal(held.replicas, 2);
  rewrite(path);
  gate.open();
  const first = await outcomeOf(h, 'intent-rewritten.json', 1);
  assert.equal(first.status, 'succeeded');
  return { h, first };
}

test(
  'a file rewritten in place (other length) while it is being submitted: both contents are submitted, the new one last',
  { timeout: 20_000 },
  async (t) => {
    const errors = watchUnhandled(t);
    const { h } = await rewriteWhileSubmitting(t, (path) => writeFileSync(path, json(intent({ target: 'rewritten', replicas: 12 }))));
    const second = await outcomeOf(h, 'intent-rewritten.json', 2);
    await h.stop();
    assert.equal(second.status, 'succeeded', second.message);
    assert.deepEqual(h.processed(), ['intent-rewritten.json']);
    assert.equal(JSON.parse(readFileSync(join(h.root, 'processed', 'intent-rewritten.json'), 'utf8')).replicas, 12);
    assert.deepEqual(
      h.commits().map((c) => c.subject),
      ['scaling oran-odu/rewritten to 12 replicas', 'scaling oran-odu/rewritten to 2 replicas'],
    );
    assert.equal(
      h.commitFor('intent-rewritten.json')?.subject,
      'scaling oran-odu/rewritten to 12 replicas',
      'the status names the new content',
    );
    assert.deepEqual(h.security, []);
    assert.deepEqual(errors, []);
  },
);

test('a file replaced by rename while it is being submitted: the new file is submitted too', { timeout: 20_000 }, async (t) => {
  const errors = watchUnhandled(t);
  const { h } = await rewriteWhileSubmitting(t, (path) => {
    writeFileSync(`${path}.tmp`, B);
    renameSync(`${path}.tmp`, path);
  });
  const second = await outcomeOf(h, 'intent-rewritten.json', 2);
  await h.stop();
  assert.equal(second.status, 'succeeded', second.message);
  assert.equal(readFileSync(join(h.root, 'processed', 'intent-rewritten.json'), 'utf8'), B);
  assert.deepEqual(
    h.commits().map((c) => c.subject),
    ['scaling oran-odu/rewritten to 7 replicas', 'scaling oran-odu/rewritten to 2 replicas'],
  );
  assert.deepEqual(errors, []);
});

test(
  'a file rewritten in place with the same length and its mtime restored (rsync --inplace --times) while being submitted: the new content is still submitted',
  { timeout: 20_000 },
  async (t) => {
    // The size, inode and mtime all stay the same: only the bytes differ. Recording the file as
    // done here would put content in processed/ that was never submitted — the ancestor's bug.
    const errors = watchUnhandled(t);
    const { h } = await rewriteWhileSubmitting(t, (path) => {
      writeFileSync(path, B);
      utimesSync(path, 1_700_000_000, 1_700_000_000);
      assert.equal(statSync(path).mtimeMs, 1_700_000_000_000);
    });
    await waitFor('the file to leave handoff/', () => h.inHandoff().length === 0, 5_000, 5);
    await waitFor('every outcome', () => h.conductor.pipeline.stats().inFlight === 0 && h.sourceDetails().active === 0, 5_000, 5);
    await h.stop();
    const processedContent = readFileSync(join(h.root, 'processed', 'intent-rewritten.json'), 'utf8');
    assert.equal(processedContent, B, 'processed/ holds the new content');
    assert.ok(
      h.commits().some((c) => c.subject === 'scaling oran-odu/rewritten to 7 replicas'),
      `the new content (7 replicas) was submitted; commits: ${JSON.stringify(h.commits().map((c) => c.subject))}`,
    );
    assert.deepEqual(errors, []);
  },
);

test(
  'a file rewritten with invalid content while being submitted: the first content is submitted, the new one explicitly failed',
  { timeout: 20_000 },
  async (t) => {
    const errors = watchUnhandled(t);
    const { h } = await rewriteWhileSubmitting(t, (path) => writeFileSync(path, '{"intent_type": "scaling", "target": '));
    const second = await outcomeOf(h, 'intent-rewritten.json', 2);
    await h.stop();
    assert.equal(second.status, 'failed');
    verify(h, [
      { file: 'intent-rewritten.json', outcome: 'failed', stage: 'validate', code: 'CND_ERR_INTENT_PARSE', event: 'malformed-json' },
    ]);
    assert.deepEqual(
      h.commits().map((c) => c.subject),
      ['scaling oran-odu/rewritten to 2 replicas'],
    );
    assert.deepEqual(errors, []);
  },
);

test('a file deleted after detection, while it waits out its debounce: no outcome, no false failure', { timeout: 20_000 }, async (t) => {
  const errors = watchUnhandled(t);
  const h = await running(t, { source: { debounceMs: 1_000 } });
  writeFileSync(h.path('intent-deleted.json'), json(intent()));
  await waitFor('the source to take the file', () => h.sourceDetails().active === 1, 5_000, 5);
  const deletedAt = performance.now();
  rmSync(h.path('intent-deleted.json'));
  await waitFor('the source to let it go', () => h.sourceDetails().active === 0, BOUND_MS + 1_000, 5);
  assert.ok(performance.now() - deletedAt < BOUND_MS, 'let go within the bound');
  await h.stop();
  verify(h, [{ file: 'intent-deleted.json', outcome: 'gone' }]);
  assert.deepEqual(h.settled, []);
  assert.deepEqual(errors, []);
});

test('a file deleted while it is being submitted: submitted once, then nothing (no false failure)', { timeout: 20_000 }, async (t) => {
  const errors = watchUnhandled(t);
  const gate = new Gate<Intent>();
  const h = await running(t, { plugins: [holdSubmit('intent-deleted.json', gate)] });
  writeFileSync(h.path('intent-deleted.json'), json(intent()));
  await gate.waiting;
  rmSync(h.path('intent-deleted.json'));
  gate.open();
  await outcomeOf(h, 'intent-deleted.json');
  await waitFor('the source to let it go', () => h.sourceDetails().active === 0 && h.sourceDetails().queued === 0, 5_000, 5);
  await h.stop();
  assert.deepEqual(
    h.settled.map((o) => o.status),
    ['succeeded'],
  );
  assert.deepEqual([h.inHandoff(), h.processed(), h.failed()], [[], [], []]);
  assert.equal(h.commits().length, 1);
  assert.deepEqual(h.security, []);
  assert.deepEqual(h.errors(), []);
  assert.deepEqual(errors, []);
});

test(
  'hostile entries created while Conductor watches (FIFO, links, directory, socket, device, a name that is not UTF-8): each refused within two seconds, nothing outside read',
  { timeout: 30_000 },
  async (t) => {
    const errors = watchUnhandled(t);
    const h = await running(t, { source: { debounceMs: 50 } });
    const created = new Map<string, number>();
    const make = (name: string, create: (path: string) => void) => {
      create(h.path(name));
      created.set(name, performance.now());
    };
    make('intent-live-fifo.json', (p) => execFileSync('mkfifo', [p]));
    make('intent-live-link.json', (p) => symlinkSync('../outside/canary.json', p));
    make('intent-live-link-fifo.json', (p) => symlinkSync('../outside/empty-fifo', p));
    make('intent-live-dir.json', (p) => mkdirSync(p));
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(h.path('intent-live-socket.json'), resolve));
    created.set('intent-live-socket.json', performance.now());
    h.onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
    let device = true;
    try {
      execFileSync('mknod', [h.path('intent-live-device.json'), 'c', '1', '5'], { stdio: 'ignore' });
    } catch {
      device = false; // not root: no device here (t.diagnostic says so)
      t.diagnostic('mknod refused (not root): the device case is covered by the corpus fallback only');
    }
    if (device) created.set('intent-live-device.json', performance.now());
    make('intent-live-ok.json', (p) => writeFileSync(p, json(intent({ target: 'live-ok' }))));
    // A name that is not UTF-8: no string names it, so the watcher reports it lossily (U+FFFD).
    writeFileSync(
      Buffer.concat([Buffer.from(`${h.handoff}/intent-live-`), Buffer.from([0xff]), Buffer.from('.json')]),
      json(intent({ target: 'live-bad-name' })),
    );
    const badNameAt = performance.now();

    for (const [name, at] of created) {
      await outcomeOf(h, name);
      assert.ok(
        h.settledAt.get(name)! - at < BOUND_MS,
        `${name} reached its outcome ${Math.round(h.settledAt.get(name)! - at)} ms after it was created`,
      );
    }
    const badName = await waitFor(
      'the entry whose name is not UTF-8 to be refused',
      () =>
        h.settled.find((o) => o.file.startsWith('intent-live-\uFFFD')) ??
        (readdirSync(h.handoff, { encoding: 'buffer' }).some((n) => n.includes(0xff)) && performance.now() - badNameAt > BOUND_MS
          ? 'still there'
          : undefined),
      BOUND_MS + 3_000,
      10,
    );
    assert.notEqual(badName, 'still there', `the entry whose name is not UTF-8 was neither moved nor reported within ${BOUND_MS} ms`);
    await h.stop();
    const refused = (file: string, event: string): Expect => ({
      file,
      outcome: 'failed',
      stage: 'source',
      code: 'CND_ERR_FILE_REJECTED',
      event,
    });
    verify(h, [
      refused('intent-live-fifo.json', 'fifo'),
      refused('intent-live-link.json', 'symlink'),
      refused('intent-live-link-fifo.json', 'symlink'),
      refused('intent-live-dir.json', 'directory'),
      refused('intent-live-socket.json', 'socket'),
      ...(device ? [refused('intent-live-device.json', 'device')] : []),
      { file: 'intent-live-ok.json', outcome: 'processed' },
      { file: (badName as Outcome).file, outcome: 'failed', stage: 'source', code: 'CND_ERR_FILE_REJECTED' },
    ]);
    assert.deepEqual(
      readdirSync(h.handoff, { encoding: 'buffer' }).map((n) => n.toString('hex')),
      [],
      'handoff/ is empty',
    );
    assert.ok(lstatSync(join(h.root, 'failed', 'intent-live-fifo.json')).isFIFO());
    assert.deepEqual(errors, []);
  },
);

test(
  'a stop while a malformed file waits out its debounce: no crash, nothing lost, nothing runs on after the stop',
  { timeout: 20_000 },
  async (t) => {
    // SIGTERM during `run` calls exactly this stop(). A file still waiting out its debounce must
    // either be finished before stop() returns or stay in handoff/ untouched for the next run.
    const errors = watchUnhandled(t);
    const h = await running(t, { source: { debounceMs: 300 } });
    writeFileSync(h.path('intent-at-stop.json'), '{"not": "an intent"');
    await waitFor('the source to take the file', () => h.sourceDetails().active === 1, 5_000, 5);
    await h.stop();
    const settledAtStop = h.settled.length;
    const places = [h.inHandoff(), h.failed()].filter((names) => names.includes('intent-at-stop.json')).length;
    assert.equal(places, 1, 'in exactly one place when stop() returned');
    // The stopped Conductor's source still holds the file until its debounce runs out; wait for
    // that to play out (it lets go, starts on it anyway, or fails with the ledger closed).
    await waitFor(
      'the stopped source to let go of the file',
      () => h.sourceDetails().active === 0 || h.seenAt.has('intent-at-stop.json') || errors.length > 0,
      5_000,
      5,
    );
    // A second run on the same directory finishes whatever the first left.
    const next = await h.next({ mode: 'once' });
    await next.runOnce();
    assert.deepEqual(errors, [], 'no unhandled error after the stop (the ledger is closed by then)');
    assert.equal(h.settled.length, settledAtStop, 'no outcome was recorded by the stopped Conductor');
    assert.ok(
      !h.seenAt.has('intent-at-stop.json') || settledAtStop === 1,
      'the stopped Conductor did not start on it after stop() returned',
    );
    assert.deepEqual(next.inHandoff(), []);
    assert.deepEqual(next.failed(), ['intent-at-stop.json']);
  },
);

test('once: the whole backlog is drained with concurrency 1', { timeout: 20_000 }, async (t) => {
  const h = await Harness.create({ concurrency: 1 });
  t.after(() => h.cleanup());
  for (const i of [1, 2, 3]) writeFileSync(h.path(`intent-backlog-${i}.json`), json(intent({ target: `backlog-${i}` })));
  await h.runOnce();
  assert.deepEqual(h.inHandoff(), [], 'nothing left in handoff/ after once');
  assert.deepEqual(h.processed(), ['intent-backlog-1.json', 'intent-backlog-2.json', 'intent-backlog-3.json']);
});

test('a rescan while files are being admitted does not admit them twice: each refusal is counted once', { timeout: 30_000 }, async (t) => {
  // fs-source lists handoff/ again every rescanMs (here: constantly). A file already taken by
  // the source must not be queued a second time, or it is processed (and refused) twice.
  const errors = watchUnhandled(t);
  const h = await running(t, { source: { rescanMs: 5 } });
  const files = Array.from({ length: 40 }, (_, i) => `intent-rescan-${String(i).padStart(2, '0')}.json`);
  for (const file of files) writeFileSync(h.path(file), '{"broken": ');
  await waitFor('every file to leave handoff/', () => h.inHandoff().length === 0, 15_000, 10);
  await waitFor('the source to be idle', () => h.sourceDetails().active === 0 && h.sourceDetails().queued === 0, 5_000, 10);
  await h.stop();
  verify(
    h,
    files.map((file): Expect => ({ file, outcome: 'failed', stage: 'validate', code: 'CND_ERR_INTENT_PARSE', event: 'malformed-json' })),
  );
  assert.deepEqual(errors, []);
});
