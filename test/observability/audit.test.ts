// Issue 5, acceptance 4: after 1,000 intents each terminal outcome appears exactly once in the
// audit log; `conductor audit verify` passes, and fails naming the line after a single-line
// edit, removal or swap. The chain continues across a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkpointPathOf, verifyChain } from '../../plugins/audit-log/chain.ts';
import { runCli } from '../support/cli.ts';
import {
  dropIntent,
  FAST,
  makeDataDir,
  openPipeline,
  readJsonLines,
  readStatusFiles,
  scaling,
  startAndSettle,
} from './support/pipeline.ts';
import { recordingSink } from './support/test-plugins.ts';

/** A copy of the log (and its checkpoint) with its lines changed by `change`. */
function tampered(log: string, name: string, change: (lines: string[]) => void): string {
  const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  change(lines);
  const copy = join(log, '..', name);
  writeFileSync(copy, `${lines.join('\n')}\n`);
  copyFileSync(checkpointPathOf(log), checkpointPathOf(copy));
  return copy;
}

const editLine = (n: number) => (lines: string[]) => {
  lines[n - 1] = lines[n - 1]!.replace('"audit":true', '"audit":false');
};
const removeLine = (n: number) => (lines: string[]) => {
  lines.splice(n - 1, 1);
};
const swapWithNext = (n: number) => (lines: string[]) => {
  [lines[n - 1], lines[n]] = [lines[n]!, lines[n - 1]!];
};

async function runPass(root: string, files: [string, Record<string, unknown>][]): Promise<void> {
  for (const [name, intent] of files) dropIntent(join(root, 'handoff'), name, intent);
  const sink = recordingSink();
  const conductor = await openPipeline({
    dataDir: root,
    ...FAST,
    concurrency: 32,
    modules: { 'recording-sink': sink.definition },
    plugins: { 'fs-source': { debounceMs: 0, maxFilesPerBatch: 1000 }, 'schema-validate': {}, 'recording-sink': {}, 'audit-log': {} },
  });
  try {
    await startAndSettle(conductor, files.length, 60_000);
  } finally {
    await conductor.stop();
  }
}

test('1,000 intents: each outcome once in the audit log; verify passes and names a tampered line', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  // First run: 850 new intents and 50 the schema refuses (each also a security event).
  const first: [string, Record<string, unknown>][] = [];
  for (let i = 0; i < 850; i += 1) first.push([`intent-${i}.json`, scaling(`app-${i % 97}`, 1 + (i % 5), { correlation_id: `corr-${i}` })]);
  for (let i = 0; i < 50; i += 1) first.push([`intent-bad-${i}.json`, scaling(`bad-${i}`, -1)]);
  await runPass(dir.root, first);
  // Second run, after a restart: 50 re-sends of earlier intents (duplicates) and 50 new ones.
  const second: [string, Record<string, unknown>][] = [];
  for (let i = 0; i < 50; i += 1)
    second.push([`intent-resent-${i}.json`, scaling(`app-${i % 97}`, 1 + (i % 5), { correlation_id: `corr-${i}` })]);
  for (let i = 850; i < 900; i += 1)
    second.push([`intent-${i}.json`, scaling(`app-${i % 97}`, 1 + (i % 5), { correlation_id: `corr-${i}` })]);
  await runPass(dir.root, second);

  const log = join(dir.root, 'audit', 'audit.log');
  const records = readJsonLines(log);
  const outcomes = records.filter((record) => record['event'] === 'outcome');
  assert.equal(outcomes.length, 1000);
  assert.equal(new Set(outcomes.map((record) => record['file'])).size, 1000, 'each intent once');
  const tally = (status: string) => outcomes.filter((record) => record['outcome'] === status).length;
  assert.deepEqual([tally('succeeded'), tally('failed'), tally('duplicate')], [900, 50, 50]);
  // Each record says what the status file says.
  const statusOf = new Map(readStatusFiles(dir.root).map((status) => [status.file, status]));
  for (const record of outcomes) {
    const status = statusOf.get(String(record['file']))!;
    assert.deepEqual([record['intentId'], record['outcome'], record['audit']], [status.intentId, status.status, true]);
  }
  assert.equal(records.filter((record) => record['event'] === 'security').length, 50);
  assert.deepEqual(
    records.map((record) => record['seq']),
    records.map((_, index) => index + 1),
    'one chain across both runs',
  );

  // The real CLI, with a JSON config naming audit-log.
  const config = join(dir.root, 'conductor.json');
  writeFileSync(config, JSON.stringify({ plugins: { 'audit-log': {} } }));
  const verify = (...extra: string[]) => runCli(['audit', 'verify', '--config', config, '--data-dir', dir.root, ...extra]);

  // The intact log and three tampered copies, checked by the CLI side by side.
  const cases: [string, (lines: string[]) => void, RegExp][] = [
    ['edited.log', editLine(500), /: line 500: the hash does not match the content/],
    ['removed.log', removeLine(300), /: line 300: it does not follow line 299/],
    ['swapped.log', swapWithNext(700), /: line 700: it does not follow line 699/],
  ];
  // Without --file verify checks every chain of the audit directory: the intact one first,
  // before the tampered copies are written beside it.
  const intact = await verify();
  const broken = await Promise.all(cases.map(([name, change]) => verify('--file', tampered(log, name, change))));
  assert.equal(intact.code, 0, intact.stderr);
  assert.match(intact.stdout, /: 1050 records, chain intact; the checkpoint matches/);
  for (const [index, result] of broken.entries()) {
    const [name, , expected] = cases[index]!;
    assert.equal(result.code, 1, `${name}: ${result.stdout}`);
    assert.match(result.stderr, expected, name);
  }
  // Cut at either end (checked in-process: the CLI prints what verifyChain returns).
  const firstRemoved = await verifyChain(tampered(log, 'first-removed.log', removeLine(1)));
  assert.deepEqual(firstRemoved, { ok: false, records: 0, line: 1, reason: 'it does not start the chain (lines before it were removed)' });
  const lastRemoved = await verifyChain(tampered(log, 'last-removed.log', removeLine(records.length)));
  assert.equal(!lastRemoved.ok && lastRemoved.line, records.length);
});

test('verify names the line of any single-line edit, removal or swap, at every position', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const sink = recordingSink();
  const conductor = await openPipeline({
    dataDir: dir.root,
    ...FAST,
    modules: { 'recording-sink': sink.definition },
    plugins: { 'fs-source': { debounceMs: 0 }, 'recording-sink': {}, 'audit-log': {} },
  });
  for (let i = 0; i < 12; i += 1) dropIntent(dir.handoff, `intent-${i}.json`, scaling(`app-${i}`, 1));
  await startAndSettle(conductor, 12);
  await conductor.stop();
  const log = join(dir.root, 'audit', 'audit.log');
  assert.deepEqual(await verifyChain(log), { ok: true, records: 12, checkpoint: 'matched', keyed: 0, anchored: 0 });

  for (let n = 1; n <= 12; n += 1) {
    const edited = await verifyChain(tampered(log, 'edit.log', editLine(n)));
    assert.deepEqual([edited.ok, !edited.ok && edited.line], [false, n], `edit of line ${n}`);
    const removed = await verifyChain(tampered(log, 'remove.log', removeLine(n)));
    assert.deepEqual([removed.ok, !removed.ok && removed.line], [false, n], `removal of line ${n}`);
    if (n < 12) {
      const swapped = await verifyChain(tampered(log, 'swap.log', swapWithNext(n)));
      assert.deepEqual([swapped.ok, !swapped.ok && swapped.line], [false, n], `swap of lines ${n} and ${n + 1}`);
    }
  }

  // A crash cut the last line short: after a restart the chain goes on from the last whole
  // record, on a line of its own, and verify names the cut line.
  appendFileSync(log, '{"level":30,"time":"2026-');
  const restarted = await openPipeline({
    dataDir: dir.root,
    ...FAST,
    modules: { 'recording-sink': sink.definition },
    plugins: { 'fs-source': { debounceMs: 0 }, 'recording-sink': {}, 'audit-log': {} },
  });
  dropIntent(dir.handoff, 'intent-after-crash.json', scaling('app-99', 1));
  await startAndSettle(restarted, 1);
  await restarted.stop();
  const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  assert.equal(lines.length, 14);
  assert.deepEqual(await verifyChain(log), { ok: false, records: 12, line: 13, reason: 'not a JSON record (the line was edited or cut)' });
  const after = JSON.parse(lines[13]!) as Record<string, unknown>;
  assert.deepEqual(
    [after['file'], after['seq'], after['prev']],
    ['intent-after-crash.json', 13, (JSON.parse(lines[11]!) as Record<string, unknown>)['hash']],
  );
});
