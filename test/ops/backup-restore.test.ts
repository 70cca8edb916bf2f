// Issue 9, acceptance 1: a backup taken while `run` processes a stream of intents, restored into
// a fresh data directory and followed by `once`, yields no duplicate submission (each intent id
// has exactly one commit in the restored history) and no lost intent (each one is in the
// restored ledger or history, or still in the restored handoff/). CONDUCTOR_OPS_INTENTS sets how
// many intents flow (300 by default, to keep CI quick; the figure is 1,000).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, startCli } from '../support/cli.ts';
import { makeDataDir, tempDir, writeJsonConfig } from '../support/data-dir.ts';
import { waitFor } from '../support/wait.ts';
import { Ledger } from '../../core/delivery/ledger.ts';
import { commitsPerIntent, dropIntents, intentFilesIn, intentIdsByFile, ledgerRecords, opsConfig } from './support/ops.ts';

const INTENTS = Number(process.env['CONDUCTOR_OPS_INTENTS'] ?? 300);

/** The outcome status/ holds for an intent file. */
function statusIn(root: string, file: string): string | undefined {
  const path = join(root, 'status', file.replace(/\.json$/, '.status.json'));
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as { status: string }).status : undefined;
}

test(
  `a backup taken while run processes ${INTENTS} intents restores with no duplicate and no lost intent`,
  { timeout: 180_000 },
  async (t) => {
    const source = makeDataDir();
    const restored = tempDir('conductor-restored-');
    const work = tempDir('conductor-ops-');
    t.after(() => [source.root, restored, work].forEach((dir) => rmSync(dir, { recursive: true, force: true })));
    // Paced at about 100 intents a second, so that the backup runs while most of them still flow.
    const config = writeJsonConfig(work, opsConfig({ 'rate-limit': { requestsPerMinute: 6_000, burst: 10 } }));
    const archive = join(work, 'backup.tar.gz');
    const processed = () => intentFilesIn(join(source.root, 'processed')).length;

    const running = startCli(['run', '--config', config, '--data-dir', source.root]);
    t.after(() => running.child.kill('SIGKILL'));
    await waitFor('conductor started', () => running.output().stdout.includes('conductor started'), 30_000);
    dropIntents(source.handoff, INTENTS);
    await waitFor('a fifth of the intents processed', () => processed() >= INTENTS / 5, 60_000);

    const settledBefore = processed();
    const backup = await runCli(['backup', '--config', config, '--data-dir', source.root, '--out', archive]);
    const settledAfter = processed();
    assert.equal(backup.code, 0, backup.stderr);
    assert.ok(settledBefore < INTENTS, 'the backup started while intents were still flowing');
    t.diagnostic(
      `backup started with ${INTENTS - settledBefore} of ${INTENTS} intents unfinished; ${settledAfter - settledBefore} settled while it ran`,
    );
    t.diagnostic(backup.stderr.trim());

    await waitFor('every intent processed', () => processed() === INTENTS, 120_000, 50);
    running.child.kill('SIGTERM');
    assert.equal((await running.exited).code, 0);
    const ids = intentIdsByFile(source.root);
    assert.equal(ids.size, INTENTS);
    assert.ok(
      [...commitsPerIntent(join(source.root, 'out')).values()].every((n) => n === 1),
      'the source itself committed each intent at most once',
    );

    const restore = await runCli(['restore', archive, '--config', config, '--data-dir', restored]);
    assert.equal(restore.code, 0, restore.stderr);

    // No lost intent: each is in the restored history, the restored ledger, or handoff/.
    const history = commitsPerIntent(join(restored, 'out'));
    const ledger = ledgerRecords(join(restored, 'state'), ids.values());
    const waiting = new Set(intentFilesIn(join(restored, 'handoff')));
    let inFlight = 0;
    for (const [file, id] of ids) {
      const known = history.has(id) || ledger.get(id) !== undefined || waiting.has(file);
      assert.ok(known, `${file} (${id}) is neither in the restored history, ledger nor handoff/`);
      if (waiting.has(file) && (history.has(id) || ledger.get(id)?.status === 'submitting')) inFlight += 1;
    }
    t.diagnostic(
      `restored: ${history.size} committed, ${waiting.size} in handoff/ (${inFlight} of them already submitting or committed at backup time)`,
    );

    const once = await runCli(['once', '--config', config, '--data-dir', restored]);
    assert.equal(once.code, 0, once.stderr);

    // No duplicate submission, nothing left behind: each intent has exactly one commit, or was
    // settled as superseded because a newer intent for its target was applied first (issue 18).
    const after = commitsPerIntent(join(restored, 'out'));
    const superseded = new Set([...ids.keys()].filter((file) => statusIn(restored, file) === 'superseded'));
    for (const [file, id] of ids) {
      if (superseded.has(file)) assert.equal(after.get(id), undefined, `${file} (${id}) was superseded and not committed`);
      else assert.equal(after.get(id), 1, `${file} (${id}) has exactly one commit (status ${statusIn(restored, file)})`);
    }
    t.diagnostic(`${superseded.size} superseded by a newer intent for their target`);
    assert.equal(after.size + superseded.size, INTENTS);
    assert.deepEqual(intentFilesIn(join(restored, 'handoff')), []);
  },
);

test('an intent in flight at backup time (committed, ledger "submitting", file still in handoff/) is resumed, not submitted again', async (t) => {
  const source = makeDataDir();
  const restored = tempDir('conductor-restored-');
  const work = tempDir('conductor-ops-');
  t.after(() => [source.root, restored, work].forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const config = writeJsonConfig(work, opsConfig());
  const archive = join(work, 'backup.tar.gz');
  dropIntents(source.handoff, 6, 'flight');
  assert.equal((await runCli(['once', '--config', config, '--data-dir', source.root])).code, 0);
  const ids = intentIdsByFile(source.root);

  // The state a backup can catch between the sink's commit and the file's move: the commit is
  // in the history, the ledger still says `submitting`, the file is still in handoff/. One more
  // intent lost its ledger record altogether (pruned, or quarantined).
  const ledger = new Ledger(join(source.root, 'state', 'ledger.sqlite'));
  for (const file of ['intent-0001.json', 'intent-0002.json']) {
    const record = ledger.get(ids.get(file)!)!;
    ledger.put({ ...record, status: 'submitting', stage: 'submit', receipt: null, settled: false });
    renameSync(join(source.root, 'processed', file), join(source.handoff, file));
  }
  ledger.exec(`DELETE FROM intents WHERE intent_id = '${ids.get('intent-0003.json')}'`);
  ledger.close();
  renameSync(join(source.root, 'processed', 'intent-0003.json'), join(source.handoff, 'intent-0003.json'));

  assert.equal((await runCli(['backup', '--config', config, '--data-dir', source.root, '--out', archive])).code, 0);
  const restore = await runCli(['restore', archive, '--config', config, '--data-dir', restored]);
  assert.equal(restore.code, 0, restore.stderr);
  assert.deepEqual(readdirSync(join(restored, 'handoff')).sort(), ['intent-0001.json', 'intent-0002.json', 'intent-0003.json']);

  const once = await runCli(['once', '--config', config, '--data-dir', restored]);
  assert.equal(once.code, 0, once.stderr);
  const commits = commitsPerIntent(join(restored, 'out'));
  assert.equal(commits.size, 6);
  for (const id of ids.values()) assert.equal(commits.get(id), 1, id);
  // The sink recognised its own commits by their trailers and handed back the same receipt.
  const records = ledgerRecords(join(restored, 'state'), ids.values());
  for (const file of ['intent-0001.json', 'intent-0002.json', 'intent-0003.json']) {
    const record = records.get(ids.get(file)!);
    assert.equal(record?.status, 'succeeded', file);
    assert.equal(record?.receipt?.reused, true, `${file}: the sink reused its commit`);
  }
});
