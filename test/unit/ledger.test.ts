// The ledger: records survive reopening; a record that fails its checksum is quarantined and
// reported, never fatal; an unreadable database file is set aside.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Ledger, type LedgerRecord } from '../../core/delivery/ledger.ts';
import { ConductorError } from '../../core/errors.ts';
import { tempDir } from '../support/data-dir.ts';

const record = (intentId: string, extra: Partial<LedgerRecord> = {}): LedgerRecord => ({
  intentId,
  contentHash: 'h',
  file: `intent-${intentId}.json`,
  target: 'ns/t',
  status: 'succeeded',
  stage: 'submit',
  attempts: 1,
  receipt: { sink: 'git-sink', ref: 'abc' },
  code: null,
  message: null,
  createdAt: 1,
  updatedAt: 2,
  settled: true,
  ...extra,
});

test('records are kept across reopening and found by file or id prefix', (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'ledger.sqlite');
  const ledger = new Ledger(path);
  ledger.put(record('aaa111'));
  ledger.put(record('bbb222', { status: 'failed', receipt: null, code: 'CND_ERR_INTENT_INVALID' }));
  ledger.close();
  const again = new Ledger(path);
  assert.deepEqual(again.get('aaa111'), record('aaa111'));
  assert.equal(again.find('intent-bbb222.json')[0]?.status, 'failed');
  assert.equal(again.find('aaa')[0]?.intentId, 'aaa111');
  assert.deepEqual(again.counts(), { succeeded: 1, failed: 1, quarantined: 0 });
  again.close();
});

test('a ledger from an earlier version loses its index on file, which no query used, and keeps its records', (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'ledger.sqlite');
  new Ledger(path).close();
  const earlier = new DatabaseSync(path);
  earlier.exec('CREATE INDEX intents_file ON intents (file)');
  // Even with the index there, the one query on file scans the table: the index served nothing.
  const plan = earlier.prepare(`EXPLAIN QUERY PLAN SELECT * FROM intents WHERE file = ? OR intent_id LIKE ?`).all('f', 'c%');
  assert.ok(
    plan.some((step) => String(step['detail']).startsWith('SCAN intents')),
    JSON.stringify(plan),
  );
  earlier.close();
  const ledger = new Ledger(path);
  ledger.put(record('ccc333'));
  ledger.close();
  const db = new DatabaseSync(path);
  t.after(() => db.close());
  const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'intents'").all();
  assert.deepEqual(
    indexes.map((row) => row['name']),
    ['sqlite_autoindex_intents_1'],
  );
  const again = new Ledger(path, { readOnly: true });
  assert.equal(again.find('intent-ccc333.json')[0]?.intentId, 'ccc333');
  again.close();
});

test('a tampered record is quarantined and reported, and the ledger goes on', (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const reports: string[] = [];
  const ledger = new Ledger(join(dir, 'ledger.sqlite'), { onCorruption: (r) => reports.push(`${r.intentId}: ${r.reason}`) });
  ledger.put(record('good'));
  ledger.put(record('bad'));
  ledger.exec(`UPDATE intents SET status = 'submitting' WHERE intent_id = 'bad'`);
  assert.equal(ledger.get('bad'), undefined);
  assert.deepEqual(reports, ['bad: checksum mismatch']);
  assert.equal(ledger.get('good')?.status, 'succeeded');
  assert.equal(ledger.counts()['quarantined'], 1);
  ledger.put(record('bad'));
  assert.equal(ledger.get('bad')?.status, 'succeeded', 'the intent can be recorded again');
  ledger.close();
});

test('an unreadable ledger file is set aside and a new one started', (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'ledger.sqlite');
  writeFileSync(path, 'this is not a database, just garbage bytes that fill the header page'.repeat(100));
  const reports: string[] = [];
  const ledger = new Ledger(path, { onCorruption: (r) => reports.push(r.reason) });
  ledger.put(record('x'));
  assert.equal(ledger.get('x')?.intentId, 'x');
  assert.equal(reports.length, 1);
  assert.ok(readdirSync(dir).some((n) => n.startsWith('ledger.sqlite.corrupt-')));
  ledger.close();
});

/** Fills a ledger with enough records to span many pages, and closes it (checkpointed, no WAL). */
function filledLedger(path: string, count = 600): void {
  const ledger = new Ledger(path);
  for (let i = 0; i < count; i += 1) ledger.put(record(`id-${String(i).padStart(5, '0')}`, { message: 'm'.repeat(200) }));
  ledger.close();
}

test('a ledger held by another connection is reported as locked, never set aside as corrupt', (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'ledger.sqlite');
  filledLedger(path, 3);
  // Another owner holding the database (as a second process would): every open meets SQLITE_BUSY.
  const holder = new DatabaseSync(path);
  holder.exec('PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; UPDATE intents SET attempts = attempts;');
  t.after(() => holder.close());
  const reports: string[] = [];
  assert.throws(
    () => new Ledger(path, { busyTimeoutMs: 50, onCorruption: (r) => reports.push(r.reason) }),
    (error: unknown) => error instanceof ConductorError && error.code === 'CND_ERR_LOCKED',
  );
  assert.deepEqual(reports, []);
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.includes('corrupt')),
    [],
    'the live ledger stays where it is',
  );
});

// How SQLite meets the damage depends on what it hits: quick_check may list it, or opening (the
// schema, dropping an earlier version's index) or the check itself may fail with "malformed".
// Each way, the ledger is set aside once and a new one serves.
for (const earlier of [false, true]) {
  for (const at of [0.25, 0.5, 0.75]) {
    const which = earlier ? 'of an earlier version' : 'of one table';
    test(`a ledger ${which} with damaged pages (${at * 100} % into the file) is set aside at open and a new one serves`, (t) => {
      const dir = tempDir();
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const path = join(dir, 'ledger.sqlite');
      filledLedger(path);
      if (earlier) {
        const db = new DatabaseSync(path);
        db.exec('CREATE INDEX intents_file ON intents (file)');
        db.close();
      }
      const size = statSync(path).size;
      assert.ok(size > 40 * 4096, `the ledger spans many pages (${size} bytes)`);
      const fd = openSync(path, 'r+');
      writeSync(fd, Buffer.alloc(3 * 4096, 0x5a), 0, 3 * 4096, Math.floor((size * at) / 4096) * 4096);
      closeSync(fd);
      const reports: string[] = [];
      const ledger = new Ledger(path, { onCorruption: (r) => reports.push(r.reason) });
      assert.equal(reports.length, 1, 'the damage is reported once');
      assert.match(reports[0]!, /damaged|malformed/);
      ledger.put(record('after'));
      ledger.commit();
      assert.equal(ledger.get('after')?.status, 'succeeded');
      ledger.close();
      assert.ok(
        readdirSync(dir).some((n) => n.startsWith('ledger.sqlite.corrupt-')),
        'the damaged file is kept for inspection',
      );
    });
  }
}

test('an error inside a group commit rejects the waiters, it is never thrown uncaught', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ledger = new Ledger(join(dir, 'ledger.sqlite'));
  ledger.put(record('x'));
  ledger.exec('ROLLBACK'); // the commit at the next turn now fails
  await assert.rejects(ledger.flush(), (error: unknown) => error instanceof ConductorError && error.code === 'CND_ERR_LEDGER');
  ledger.put(record('y'));
  await ledger.flush();
  assert.equal(ledger.get('y')?.intentId, 'y', 'the ledger goes on after a failed commit');
  ledger.close();
});

test('a read-only ledger (readers such as status) cannot write: no quarantine, no rename', (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'ledger.sqlite');
  const writer = new Ledger(path);
  writer.put(record('good'));
  writer.put(record('bad'));
  writer.commit();
  writer.exec(`UPDATE intents SET status = 'submitting' WHERE intent_id = 'bad'`);
  // The writer stays open (a running `run`), the reader comes and goes.
  const reports: string[] = [];
  const reader = new Ledger(path, { readOnly: true, onCorruption: (r) => reports.push(`${r.intentId}: ${r.reason}`) });
  assert.equal(reader.get('bad'), undefined, 'a row that fails its checksum is not served');
  assert.deepEqual(reports, ['bad: checksum mismatch']);
  assert.equal(reader.counts()['quarantined'], 0, 'nor moved to quarantine');
  assert.throws(() => reader.exec(`DELETE FROM intents`), /readonly|read-only/i);
  assert.throws(() => reader.put(record('new')), /readonly|read-only/i);
  reader.close();
  assert.equal(writer.counts()['succeeded'], 1);
  assert.equal(writer.counts()['submitting'], 1, 'the tampered row is still where it was');
  writer.close();
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.includes('corrupt')),
    [],
  );
});

test('markSettled marks a record as written or read, and the row still passes its checksum', (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'ledger.sqlite');
  const reports: string[] = [];
  const ledger = new Ledger(path, { onCorruption: (r) => reports.push(`${r.intentId}: ${r.reason}`) });
  const written = record('written', { settled: false });
  ledger.put(written);
  ledger.markSettled(written, 50);
  // A record changed since it was written is written whole (its row never mixes the two).
  const changedInMemory = record('changed-in-memory', { settled: false });
  ledger.put(changedInMemory);
  changedInMemory.message = 'changed after it was written';
  ledger.markSettled(changedInMemory, 55);
  ledger.put(record('read', { settled: false }));
  ledger.commit();
  const read = ledger.get('read')!;
  ledger.markSettled(read, 60);
  ledger.close();
  const again = new Ledger(path, { onCorruption: (r) => reports.push(`${r.intentId}: ${r.reason}`) });
  assert.deepEqual(again.get('written'), record('written', { settled: true, updatedAt: 50 }));
  assert.deepEqual(again.get('read'), record('read', { settled: true, updatedAt: 60 }));
  assert.deepEqual(
    again.get('changed-in-memory'),
    record('changed-in-memory', { settled: true, updatedAt: 55, message: 'changed after it was written' }),
  );
  assert.deepEqual(reports, []);
  again.close();
});

test('markSettled writes the whole record when the row changed or vanished since it was written', (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const reports: string[] = [];
  const ledger = new Ledger(join(dir, 'ledger.sqlite'), { onCorruption: (r) => reports.push(`${r.intentId}: ${r.reason}`) });
  const changed = record('changed', { settled: false });
  ledger.put(changed);
  const other = new DatabaseSync(ledger.path);
  ledger.commit();
  // Another writer rewrote the row (its own checksum aside), and another one removed its row.
  other.exec(`UPDATE intents SET checksum = 'someone-else' WHERE intent_id = 'changed'`);
  const removed = record('removed', { settled: false });
  ledger.put(removed);
  ledger.commit();
  other.exec(`DELETE FROM intents WHERE intent_id = 'removed'`);
  other.close();
  ledger.markSettled(changed, 70);
  ledger.markSettled(removed, 80);
  ledger.markSettled(record('never-written', { settled: false }), 90);
  ledger.commit();
  assert.deepEqual(ledger.get('changed'), record('changed', { settled: true, updatedAt: 70 }));
  assert.deepEqual(ledger.get('removed'), record('removed', { settled: true, updatedAt: 80 }));
  assert.deepEqual(ledger.get('never-written'), record('never-written', { settled: true, updatedAt: 90 }));
  assert.deepEqual(reports, []);
  ledger.close();
});
