// The delivery guarantee at the edges an operator meets: a damaged ledger, a config without a
// sink, content that must not leak into error records, readers beside a running writer,
// unreadable intent files and producers that pause mid-write — each through the real CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  readdirSync,
  statSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { CLI, REPO_ROOT, runCli, startCli, type Running } from '../support/cli.ts';
import { dropIntent, fastConfig, list, makeDataDir, scaling, writeJsonConfig } from '../support/data-dir.ts';
import { gitLog } from '../support/git.ts';
import { waitFor } from '../support/wait.ts';

const ledgerPath = (root: string) => join(root, 'state', 'ledger.sqlite');

test('a ledger with damaged pages is set aside at start; once processes the intents and exits 0', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const config = writeJsonConfig(dir.root, fastConfig(dir.root));
  // A ledger of many pages: 120 intents, each with a long reason.
  for (let i = 0; i < 120; i += 1) dropIntent(dir.handoff, `intent-a${i}.json`, scaling(`app-${i}`, 2, { reason: 'r'.repeat(400) }));
  const first = await runCli(['once', '--config', config]);
  assert.equal(first.code, 0, first.stderr);
  const size = statSync(ledgerPath(dir.root)).size;
  assert.ok(size >= 12 * 4096, `the ledger spans many pages (${size} bytes)`);
  // Damage the pages in the middle of the file (as a failing disk or a torn copy would): all but
  // the first page (the schema) and the last ones.
  const pages = size / 4096;
  const from = Math.max(1, Math.floor(pages * 0.1));
  const to = Math.floor(pages * 0.95);
  const fd = openSync(ledgerPath(dir.root), 'r+');
  writeSync(fd, Buffer.alloc((to - from) * 4096, 0xa5), 0, (to - from) * 4096, from * 4096);
  closeSync(fd);
  for (let i = 0; i < 5; i += 1) dropIntent(dir.handoff, `intent-b${i}.json`, scaling(`next-${i}`, 3));

  const second = await runCli(['once', '--config', config, '--log-level', 'error']);

  assert.equal(second.code, 0, second.stderr + second.stdout);
  assert.deepEqual(list(dir.handoff), []);
  assert.equal(list(join(dir.root, 'processed')).length, 125);
  assert.equal(gitLog(join(dir.root, 'out')).length, 125, 'one commit per intent');
  assert.equal(existsSync(join(dir.root, 'state', 'conductor.lock')), false, 'no lock file left behind');
  assert.ok(
    list(join(dir.root, 'state')).some((n) => n.startsWith('ledger.sqlite.corrupt-')),
    'the damaged ledger is kept aside',
  );
  assert.match(second.stdout, /ledger database damaged/);
});

test('a config with no sink is refused at start (exit 2, naming the config file)', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const config = writeJsonConfig(dir.root, { dataDir: dir.root, plugins: { 'fs-source': { debounceMs: 0 }, 'schema-validate': {} } });
  dropIntent(dir.handoff, 'intent-a.json', scaling('appa', 2));
  for (const command of ['once', 'run', 'validate']) {
    const result = await runCli([command, '--config', config]);
    assert.equal(result.code, 2, `${command}: ${result.stderr}`);
    assert.match(result.stderr, /CND_ERR_CONFIG_INVALID/);
    assert.match(result.stderr, /no sink/);
    assert.ok(result.stderr.includes(config), `${command} names the config file`);
  }
  assert.deepEqual(list(dir.handoff), ['intent-a.json'], 'nothing was processed');
  assert.deepEqual(list(join(dir.root, 'processed')), []);
});

test('a config file that is JSON null is refused (exit 2), not replaced by the built-in pipeline', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const config = join(dir.root, 'conductor.config.json');
  writeFileSync(config, 'null\n');
  dropIntent(dir.handoff, 'intent-a.json', scaling('appa', 2));
  const result = await runCli(['once', '--config', config, '--data-dir', dir.root]);
  assert.equal(result.code, 2, result.stderr);
  assert.ok(result.stderr.includes(config), result.stderr);
  assert.deepEqual(list(dir.handoff), ['intent-a.json']);
});

test('a parse error names the position, never the content of the file', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const config = writeJsonConfig(dir.root, fastConfig(dir.root));
  const secret = 'SECRET-TOKEN-abc123';
  dropIntent(dir.handoff, 'intent-leak.json', `${secret} and more text`);
  dropIntent(dir.handoff, 'intent-leak2.json', `{"intent_type": "scaling",\n  "target": ${secret}}`);
  dropIntent(dir.handoff, 'intent-leak3.json', `{"a": 1} ${secret}`);
  const result = await runCli(['once', '--config', config, '--log-level', 'info']);
  assert.equal(result.code, 1, result.stderr);
  const records = [
    ...list(join(dir.root, 'failed'))
      .filter((n) => n.endsWith('.error.json'))
      .map((n) => readFileSync(join(dir.root, 'failed', n), 'utf8')),
    ...list(join(dir.root, 'status')).map((n) => readFileSync(join(dir.root, 'status', n), 'utf8')),
    ...list(join(dir.root, 'audit')).map((n) => readFileSync(join(dir.root, 'audit', n), 'utf8')),
    result.stdout,
    result.stderr,
  ];
  assert.equal(records.length > 6, true);
  for (const record of records) assert.ok(!record.includes('SECRET') && !record.includes('abc123'), `content leaked: ${record}`);
  const db = new DatabaseSync(ledgerPath(dir.root), { readOnly: true });
  const messages = db.prepare('SELECT message FROM intents').all() as { message: string }[];
  db.close();
  assert.equal(messages.length, 3);
  for (const { message } of messages) assert.ok(!message.includes('SECRET'), `content leaked into the ledger: ${message}`);
  const reason = (stem: string) =>
    (JSON.parse(readFileSync(join(dir.root, 'failed', `${stem}.error.json`), 'utf8')) as { message: string }).message;
  assert.match(reason('intent-leak'), /line 1, column 1/);
  assert.match(reason('intent-leak2'), /line 2, column 13/);
  assert.match(reason('intent-leak3'), /line 1, column 10/);
});

test('conductor status beside a running writer opens the ledger read-only: nothing is quarantined', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const config = writeJsonConfig(dir.root, { ...fastConfig(dir.root), logLevel: 'info' });
  dropIntent(dir.handoff, 'intent-a.json', scaling('appa', 2));
  dropIntent(dir.handoff, 'intent-b.json', scaling('appb', 2));
  assert.equal((await runCli(['once', '--config', config])).code, 0);
  // A row that fails its checksum: a writer would quarantine it; a reader must leave it.
  const db = new DatabaseSync(ledgerPath(dir.root));
  db.exec(`UPDATE intents SET attempts = 99 WHERE file = 'intent-a.json'`);
  db.close();
  const running = startCli(['run', '--config', config]);
  t.after(() => running.child.kill('SIGKILL'));
  await waitFor('run started', () => running.output().stdout.includes('conductor started'), 30_000);
  for (let i = 0; i < 3; i += 1) {
    const lookup = await runCli(['status', '--config', config, 'intent-a.json']);
    assert.equal(lookup.code, 1, 'the damaged row is not served');
    assert.match(lookup.stderr, /skipped: checksum mismatch/);
    const status = await runCli(['status', '--config', config, '--json']);
    assert.equal(status.code, 0, status.stderr);
    assert.equal((JSON.parse(status.stdout) as Record<string, number>)['quarantined'], 0);
  }
  running.child.kill('SIGTERM');
  assert.equal((await running.exited).code, 0);
  const after = new DatabaseSync(ledgerPath(dir.root), { readOnly: true });
  const rows = after.prepare('SELECT COUNT(*) AS n FROM quarantine').get() as { n: number };
  const kept = after.prepare(`SELECT attempts FROM intents WHERE file = 'intent-a.json'`).get() as { attempts: number };
  after.close();
  assert.equal(rows.n, 0, 'status quarantined nothing');
  assert.equal(kept.attempts, 99, 'the row is where it was');
  assert.deepEqual(
    readdirSync(join(dir.root, 'state')).filter((n) => n.includes('corrupt')),
    [],
  );
});

/**
 * Runs the CLI so that a mode-000 file is unreadable to it. Tests often run as root, whom file
 * modes do not stop (CAP_DAC_OVERRIDE): then the CLI runs as root without the two capabilities
 * that bypass file permissions, which is exactly what an unprivileged service account meets.
 */
function startUnprivilegedCli(args: string[]): Running {
  const drop = '-dac_override,-dac_read_search';
  const [command, prefix] =
    process.getuid?.() === 0 ? ['setpriv', ['--bounding-set', drop, '--inh-caps', drop, process.execPath]] : [process.execPath, []];
  const child = spawn(command, [...prefix, CLI, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, output: () => ({ stdout, stderr }), exited };
}

test('an unreadable intent file is work left (once exits 3), then failed with a clear code after the retry budget', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const config = writeJsonConfig(dir.root, { ...fastConfig(dir.root), logLevel: 'info', requeueDelayMs: 50, retry: { maxAttempts: 3 } });
  dropIntent(dir.handoff, 'intent-good.json', scaling('appgood', 2));
  chmodSync(dropIntent(dir.handoff, 'intent-locked.json', scaling('applocked', 2)), 0o000);

  const once = await startUnprivilegedCli(['once', '--config', config]).exited;
  assert.equal(once.code, 3, `exit 0 would claim every intent succeeded: ${once.stderr}`);
  assert.deepEqual(list(dir.handoff), ['intent-locked.json'], 'the unreadable file stays');
  assert.deepEqual(list(join(dir.root, 'processed')), ['intent-good.json']);

  const running = startUnprivilegedCli(['run', '--config', config]);
  t.after(() => running.child.kill('SIGKILL'));
  await waitFor('the unreadable file failed', () => existsSync(join(dir.root, 'failed', 'intent-locked.error.json')), 30_000);
  const record = JSON.parse(readFileSync(join(dir.root, 'failed', 'intent-locked.error.json'), 'utf8')) as Record<string, string>;
  assert.equal(record['code'], 'CND_ERR_FILE_UNREADABLE');
  assert.match(record['message']!, /cannot be read \(EACCES/);
  assert.match(record['message']!, /gave up after 3 attempts/);
  assert.deepEqual(list(dir.handoff), []);
  running.child.kill('SIGTERM');
  const ran = await running.exited;
  assert.equal(ran.code, 0, ran.stderr);
  // One warning while it waits (not one per retry), and one for the outcome when it fails.
  const warnings = ran.stdout.split('\n').filter((line) => line.includes('intent-locked.json') && line.includes('"level":40'));
  const waiting = warnings.filter((line) => line.includes('"status":"deferred"'));
  assert.equal(waiting.length, 1, `the repeated condition is logged once:\n${warnings.join('\n')}`);
  assert.equal(warnings.filter((line) => line.includes('"status":"failed"')).length, 1, warnings.join('\n'));
});

const PART_1 = '{"intent_type": "scaling", "target": "paused", ';
const PART_2 = '"namespace": "oran-odu", "replicas": 4, "source": "test"}';
/** A modification time old enough that the source reads the file at once (no debounce wait). */
const settledLongAgo = (path: string) => {
  const past = new Date(Date.now() - 60_000);
  utimesSync(path, past, past);
};

for (const reopen of [false, true]) {
  const how = reopen ? 'closing and reopening' : 'keeping the file open';
  test(`a producer that pauses mid-write (${how}) gets one intent, not a failure`, async (t) => {
    const dir = makeDataDir();
    t.after(dir.cleanup);
    // The debounce is what the source waits, after a parse error, for the file to settle.
    const config = writeJsonConfig(dir.root, { ...fastConfig(dir.root, { 'fs-source': { debounceMs: 3_000 } }), logLevel: 'info' });
    const running = startCli(['run', '--config', config]);
    t.after(() => running.child.kill('SIGKILL'));
    await waitFor('run started', () => running.output().stdout.includes('conductor started'), 30_000);
    const path = join(dir.handoff, 'intent-paused.json');
    let fd = openSync(path, 'w');
    writeSync(fd, PART_1);
    settledLongAgo(path);
    await waitFor(
      'the parse error being confirmed (or the file failed)',
      () => running.output().stdout.includes('checking that the file is complete') || list(join(dir.root, 'failed')).length > 0,
      30_000,
    );
    if (reopen) {
      closeSync(fd);
      fd = openSync(path, 'a');
    }
    writeSync(fd, PART_2);
    closeSync(fd);
    settledLongAgo(path);
    await waitFor('the intent settled', () => list(join(dir.root, 'processed')).length + list(join(dir.root, 'failed')).length > 0, 30_000);
    running.child.kill('SIGTERM');
    assert.equal((await running.exited).code, 0);
    assert.deepEqual(list(join(dir.root, 'failed')), [], 'no false failure');
    assert.deepEqual(list(join(dir.root, 'processed')), ['intent-paused.json']);
    assert.equal(gitLog(join(dir.root, 'out')).length, 1);
  });
}

test('the copy in failed/ is the bytes that failed, even when the producer writes on afterwards', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const config = writeJsonConfig(dir.root, { ...fastConfig(dir.root, { 'fs-source': { debounceMs: 200 } }), logLevel: 'info' });
  const path = join(dir.handoff, 'intent-cut.json');
  const fd = openSync(path, 'w');
  t.after(() => closeSync(fd));
  writeSync(fd, PART_1);
  settledLongAgo(path);
  const once = await runCli(['once', '--config', config]);
  assert.equal(once.code, 1, once.stderr);
  // The producer, still holding the file open, writes the rest after it failed.
  writeSync(fd, PART_2);
  assert.equal(readFileSync(join(dir.root, 'failed', 'intent-cut.json'), 'utf8'), PART_1);
  const record = JSON.parse(readFileSync(join(dir.root, 'failed', 'intent-cut.error.json'), 'utf8')) as Record<string, string>;
  assert.equal(record['code'], 'CND_ERR_INTENT_PARSE');
});
