// The ledger: records survive reopening; a record that fails its checksum is quarantined and
// reported, never fatal; an unreadable database file is set aside.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ledger, type LedgerRecord } from '../../core/delivery/ledger.ts';
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
