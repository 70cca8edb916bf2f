// Issue 9, acceptance 3: retention removes entries older than their age while intents flow, and
// touches nothing newer — checked at the exact boundary with a clock the test controls, and
// end to end with the real CLI and timestamps set in the past.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConductor, type Conductor } from '../../core/app.ts';
import { resolveConfig } from '../../core/config/validate.ts';
import { Ledger, type LedgerRecord } from '../../core/delivery/ledger.ts';
import { silentLogger } from '../../core/log.ts';
import { createRetention } from '../../plugins/retention/index.ts';
import { parseDuration } from '../../plugins/retention/duration.ts';
import { startCli } from '../support/cli.ts';
import { makeDataDir, tempDir, writeJsonConfig } from '../support/data-dir.ts';
import { waitFor } from '../support/wait.ts';
import { dropIntents, intentFilesIn, ledgerRecords, opsConfig } from './support/ops.ts';

const HOUR = 3_600_000;

test('durations: the guide\'s 168h, and 30m, 7d, 1h30m, 10s, 250ms; "off"; nonsense refused', () => {
  assert.equal(parseDuration('168h'), 168 * HOUR);
  assert.equal(parseDuration('7d'), 168 * HOUR);
  assert.equal(parseDuration('30m'), 30 * 60_000);
  assert.equal(parseDuration('1h30m'), 90 * 60_000);
  assert.equal(parseDuration('10s'), 10_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('2w'), 14 * 24 * HOUR);
  assert.equal(parseDuration('off'), undefined);
  for (const bad of ['', '168', 'h', '1.5h', '-1h', '1 h', '1y', '0s', '7 days']) assert.throws(() => parseDuration(bad), bad);
});

test('a config with a bad age is refused naming the option', async () => {
  const dataDir = tempDir();
  await assert.rejects(
    resolveConfig({ dataDir, plugins: { retention: { processedMaxAge: '7 days' } } }, { source: 'test', baseDir: dataDir }),
    /plugins\.retention\.processedMaxAge/,
  );
  rmSync(dataDir, { recursive: true, force: true });
});

/** What the retention plugin reports through /ready: sweeps done and entries removed. */
function retentionDetails(conductor: Conductor): { sweeps: number; removed: Record<string, number> } | undefined {
  return conductor.readiness().plugins['retention']?.details as { sweeps: number; removed: Record<string, number> } | undefined;
}

function write(path: string, at: number, content = '{}'): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
  utimesSync(path, new Date(at), new Date(at));
}

function settled(intentId: string, updatedAt: number, extra: Partial<LedgerRecord> = {}): LedgerRecord {
  return {
    intentId,
    contentHash: 'c'.repeat(64),
    file: `intent-${intentId.slice(0, 6)}.json`,
    target: 'oran-odu/odu',
    status: 'succeeded',
    stage: 'submit',
    attempts: 1,
    receipt: { sink: 'git-sink', ref: 'f'.repeat(40) },
    code: null,
    message: null,
    createdAt: updatedAt,
    updatedAt,
    settled: true,
    ...extra,
  };
}

test('with a controlled clock: older than the age is removed, the age itself and newer are kept, handoff/ never', async (t) => {
  const dataDir = tempDir();
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const now = Date.parse('2031-03-01T12:00:00Z');
  const cutoff = now - HOUR; // maxAge 1h
  const old = cutoff - 1_000;
  const young = cutoff + 1_000;
  const p = (...parts: string[]) => join(dataDir, ...parts);

  write(p('processed', 'intent-old.json'), old);
  write(p('processed', 'intent-boundary.json'), cutoff);
  write(p('processed', 'intent-young.json'), young);
  write(p('status', 'intent-old.status.json'), old);
  write(p('status', 'intent-young.status.json'), young);
  // failed/: a pair is aged by its error record (when it failed), not by the producer's mtime.
  write(p('failed', 'intent-failed-long-ago.json'), young);
  write(p('failed', 'intent-failed-long-ago.error.json'), old);
  write(p('failed', 'intent-failed-lately.json'), old);
  write(p('failed', 'intent-failed-lately.error.json'), young);
  write(p('failed', 'intent-orphan.error.json'), old);
  write(p('failed', 'intent-dir.json', 'inside'), old);
  utimesSync(p('failed', 'intent-dir.json'), new Date(old), new Date(old));
  write(p('failed', 'intent-dir.error.json'), old);
  write(p('handoff', 'intent-ancient.json'), old - 100 * HOUR);
  write(p('handoff', 'notes.txt'), old - 100 * HOUR);

  const ledger = new Ledger(p('state', 'ledger.sqlite'));
  ledger.put(settled('a'.repeat(40), old));
  ledger.put(settled('b'.repeat(40), young));
  ledger.put(settled('c'.repeat(40), old, { status: 'submitting', settled: false }));
  ledger.put(settled('d'.repeat(40), old, { status: 'failed', receipt: null, code: 'CND_ERR_INTENT_INVALID' }));
  ledger.close();

  const resolved = await resolveConfig(
    {
      dataDir,
      plugins: { retention: { maxAge: '1h', intervalMs: 60_000, batchSize: 2 } },
      modules: { retention: createRetention(() => now) },
    },
    { source: 'test', baseDir: dataDir },
  );
  const conductor = await createConductor(resolved, { log: silentLogger(), mode: 'run' });
  const announced: Record<string, number> = {};
  conductor.events.retention.tap('test', (event) => void (announced[event.area] = event.removed));
  await conductor.start();
  await waitFor('the first sweep', () => (retentionDetails(conductor)?.sweeps ?? 0) >= 1);
  const records = ledgerRecords(
    p('state'),
    ['a', 'b', 'c', 'd'].map((c) => c.repeat(40)),
  );
  await conductor.stop();

  assert.deepEqual(readdirSync(p('processed')).sort(), ['intent-boundary.json', 'intent-young.json']);
  assert.deepEqual(readdirSync(p('status')), ['intent-young.status.json']);
  assert.deepEqual(readdirSync(p('failed')).sort(), ['intent-failed-lately.error.json', 'intent-failed-lately.json']);
  assert.deepEqual(readdirSync(p('handoff')).sort(), ['intent-ancient.json', 'notes.txt']);
  assert.equal(records.get('a'.repeat(40)), undefined, 'an old settled record is forgotten');
  assert.equal(records.get('d'.repeat(40)), undefined, 'an old settled failure is forgotten');
  assert.ok(records.get('b'.repeat(40)), 'a young record is kept');
  assert.equal(records.get('c'.repeat(40))?.status, 'submitting', 'an unsettled record is never pruned, however old');
  assert.deepEqual(retentionDetails(conductor)?.removed, { processed: 1, status: 1, failed: 5, ledger: 2 });
  assert.deepEqual(announced, { processed: 1, status: 1, failed: 5, ledger: 2 }, 'each removal is announced for the audit log and metrics');
});

test('each area has its own age; "off" keeps an area whole', async (t) => {
  const dataDir = tempDir();
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const now = Date.parse('2031-03-01T12:00:00Z');
  const p = (...parts: string[]) => join(dataDir, ...parts);
  write(p('processed', 'intent-2h.json'), now - 2 * HOUR);
  write(p('status', 'intent-2h.status.json'), now - 2 * HOUR);
  write(p('failed', 'intent-2h.json'), now - 2 * HOUR);
  write(p('failed', 'intent-2h.error.json'), now - 2 * HOUR);
  const resolved = await resolveConfig(
    {
      dataDir,
      plugins: { retention: { maxAge: '1h', statusMaxAge: '3h', failedMaxAge: 'off', intervalMs: 60_000 } },
      modules: { retention: createRetention(() => now) },
    },
    { source: 'test', baseDir: dataDir },
  );
  const conductor = await createConductor(resolved, { log: silentLogger(), mode: 'once' });
  await conductor.start();
  await waitFor('the sweep', () => (retentionDetails(conductor)?.sweeps ?? 0) >= 1);
  await conductor.stop();
  assert.deepEqual(readdirSync(p('processed')), []);
  assert.deepEqual(readdirSync(p('status')), ['intent-2h.status.json']);
  assert.equal(readdirSync(p('failed')).length, 2);
});

test('while run processes intents, retention removes the old entries and leaves every new one', { timeout: 120_000 }, async (t) => {
  const dir = makeDataDir();
  const work = tempDir('conductor-ops-');
  t.after(() => [dir.root, work].forEach((d) => rmSync(d, { recursive: true, force: true })));
  const twoHoursAgo = Date.now() - 2 * HOUR;
  const p = (...parts: string[]) => join(dir.root, ...parts);
  for (let i = 0; i < 200; i += 1) {
    write(p('processed', `intent-old-${i}.json`), twoHoursAgo);
    write(p('status', `intent-old-${i}.status.json`), twoHoursAgo);
  }
  write(p('failed', 'intent-old-bad.json'), twoHoursAgo);
  write(p('failed', 'intent-old-bad.error.json'), twoHoursAgo);
  write(p('handoff', 'readme-old.txt'), twoHoursAgo);
  const ledger = new Ledger(p('state', 'ledger.sqlite'));
  for (let i = 0; i < 50; i += 1) ledger.put(settled(i.toString(16).padStart(40, 'e'), twoHoursAgo));
  ledger.close();

  const config = writeJsonConfig(work, opsConfig({ retention: { maxAge: '30m', intervalMs: 100, batchSize: 25 } }));
  const running = startCli(['run', '--config', config, '--data-dir', dir.root]);
  t.after(() => running.child.kill('SIGKILL'));
  await waitFor('conductor started', () => running.output().stdout.includes('conductor started'), 30_000);
  // Intents flow in batches; between them more old entries appear (say, restored from a backup),
  // so that sweeps remove entries while new ones are being written beside them.
  for (let batch = 0; batch < 4; batch += 1) {
    dropIntents(dir.handoff, 40, 'flow', batch * 40);
    for (let i = 0; i < 10; i += 1) write(p('processed', `intent-old-late-${batch}-${i}.json`), twoHoursAgo);
  }
  const oldLeft = () =>
    readdirSync(p('processed')).filter((n) => n.startsWith('intent-old-')).length +
    readdirSync(p('status')).filter((n) => n.startsWith('intent-old-')).length;
  await waitFor(
    'every new intent processed',
    () => intentFilesIn(p('processed')).length - oldLeft() >= 160 && intentFilesIn(dir.handoff).length === 0,
    60_000,
    20,
  );
  await waitFor('the old entries removed', () => oldLeft() === 0 && !existsSync(p('failed', 'intent-old-bad.json')), 60_000, 20);
  running.child.kill('SIGTERM');
  assert.equal((await running.exited).code, 0);

  assert.equal(intentFilesIn(p('processed')).length, 160, 'no new processed file was removed');
  assert.equal(readdirSync(p('status')).length, 160, 'no new status file was removed');
  assert.deepEqual(readdirSync(p('failed')), []);
  assert.ok(existsSync(p('handoff', 'readme-old.txt')), 'handoff/ is never touched');
  const ids = [...Array(50).keys()].map((i) => i.toString(16).padStart(40, 'e'));
  assert.ok(
    [...ledgerRecords(p('state'), ids).values()].every((r) => r === undefined),
    'the old ledger records are gone',
  );
  // What was removed is counted in the log, per area.
  const total: Record<string, number> = { processed: 0, status: 0, failed: 0, ledger: 0 };
  for (const line of running
    .output()
    .stdout.split('\n')
    .filter((l) => l.includes('"event":"retention"'))) {
    const { removed } = JSON.parse(line) as { removed?: Record<string, number> };
    for (const [area, n] of Object.entries(removed ?? {})) total[area] = (total[area] ?? 0) + n;
  }
  assert.deepEqual(total, { processed: 240, status: 200, failed: 2, ledger: 50 });
});
