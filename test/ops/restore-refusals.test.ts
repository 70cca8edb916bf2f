// Issue 9, acceptance 2: restore refuses a damaged archive naming the damaged member, refuses a
// foreign one, never writes outside its data directory, and never overwrites a data directory
// that holds files without --force. Whatever it refuses, the target is left as it was.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { create as createTar } from 'tar';
import { CLI, runCli } from '../support/cli.ts';
import { makeDataDir, tempDir, writeJsonConfig } from '../support/data-dir.ts';
import { fileHeader, padding, TAR_END } from '../../core/backup/tar.ts';
import { commitsPerIntent, dropIntents, intentFilesIn, opsConfig } from './support/ops.ts';
import { flipByteInFile, flipByteInMember, membersOf } from './support/tamper.ts';

let work: string;
let config: string;
let archive: string;
let sourceRoot: string;
const LONG_NAME = `intent-${'long-'.repeat(40)}name.json`;

before(async () => {
  work = tempDir('conductor-refusals-');
  const source = makeDataDir();
  sourceRoot = source.root;
  config = writeJsonConfig(work, { ...opsConfig(), logLevel: 'warn' });
  dropIntents(source.handoff, 4, 'refusal');
  assert.equal((await runCli(['once', '--config', config, '--data-dir', source.root])).code, 0);
  // What a backup meets in a live inbox: a name too long for a plain tar header, and entries
  // that are not files — a FIFO must not block it, a link must not be followed.
  writeFileSync(join(source.root, 'processed', LONG_NAME), '{"long": true}');
  execFileSync('mkfifo', [join(source.handoff, 'intent-fifo.json')]);
  symlinkSync('/etc/hostname', join(source.handoff, 'intent-link.json'));
  archive = join(work, 'good.tar.gz');
  const backup = await runCli(['backup', '--config', config, '--data-dir', source.root, '--out', archive]);
  assert.equal(backup.code, 0, backup.stderr);
  assert.match(backup.stderr, /2 entries skipped \(not regular files\)/);
  process.on('exit', () => [work, source.root].forEach((dir) => rmSync(dir, { recursive: true, force: true })));
});

/** Files (not directories) under a directory, recursively. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isDirectory())
    .map((e) => join(e.parentPath, e.name));
}

async function restoreInto(file: string, target: string, ...flags: string[]) {
  return runCli(['restore', file, '--config', config, '--data-dir', target, ...flags]);
}

test('an intact archive restores, and its manifest lists every member with size and sha256', async () => {
  const target = tempDir('conductor-target-');
  const result = await restoreInto(archive, target);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(intentFilesIn(join(target, 'processed')).length, 5);
  assert.equal(readFileSync(join(target, 'processed', LONG_NAME), 'utf8'), '{"long": true}');
  assert.deepEqual(readdirSync(join(target, 'handoff')), [], 'the FIFO and the link were not copied');
  assert.equal(commitsPerIntent(join(target, 'out')).size, 4);
  const names = membersOf(gunzipSync(readFileSync(archive))).map((m) => m.path);
  assert.deepEqual(names.slice(0, 3), ['conductor-backup.json', 'manifest.json', 'manifest.json.sha256']);
  assert.ok(names.includes('state/ledger.sqlite'));
  assert.ok(names.some((n) => n.startsWith('data/out/.git/objects/')));
  assert.ok(!names.some((n) => /\/\.git\/(config|hooks|index)/.test(n)), 'no repository settings, hooks or index travel');
  rmSync(target, { recursive: true, force: true });
});

for (const member of [
  'data/processed/intent-0002.json',
  'state/ledger.sqlite',
  'data/out/.git/refs/heads/main',
  'data/audit/audit.log',
  'manifest.json',
]) {
  test(`one byte flipped in ${member} is refused naming that member; nothing is restored`, async () => {
    const damaged = join(work, `damaged-${member.replace(/\W+/g, '_')}.tar.gz`);
    flipByteInMember(archive, damaged, member);
    const target = tempDir('conductor-target-');
    const result = await restoreInto(damaged, target);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /CND_ERR_BACKUP_DAMAGED/);
    assert.ok(result.stderr.includes(`member ${member} `), result.stderr);
    assert.deepEqual(filesUnder(target), []);
    rmSync(target, { recursive: true, force: true });
  });
}

test('a byte flipped anywhere in the compressed file is refused, naming where the damage was found', async () => {
  const members = membersOf(gunzipSync(readFileSync(archive))).map((m) => m.path);
  for (const fraction of [0.2, 0.5, 0.8, 0.97]) {
    const damaged = join(work, `raw-${fraction}.tar.gz`);
    flipByteInFile(archive, damaged, fraction);
    const target = tempDir('conductor-target-');
    const result = await restoreInto(damaged, target);
    assert.equal(result.code, 1, `${fraction}: ${result.stderr}`);
    assert.match(result.stderr, /CND_ERR_BACKUP_DAMAGED: .*member \S+/, `${fraction}: ${result.stderr}`);
    const named = /member (\S+) /.exec(result.stderr)?.[1];
    if (named !== undefined) assert.ok(members.includes(named), `${fraction}: ${named} is a member of the archive`);
    assert.deepEqual(filesUnder(target), []);
    rmSync(target, { recursive: true, force: true });
  }
});

test('an archive cut short is refused', async () => {
  const cut = join(work, 'cut.tar.gz');
  copyFileSync(archive, cut);
  truncateSync(cut, Math.floor(statSync(cut).size * 0.6));
  const target = tempDir('conductor-target-');
  const result = await restoreInto(cut, target);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /CND_ERR_BACKUP_DAMAGED/);
  assert.deepEqual(filesUnder(target), []);
  rmSync(target, { recursive: true, force: true });
});

test('foreign files are refused: another tarball, a text file, an empty file, a newer format version', async () => {
  const foreignDir = join(work, 'foreign');
  mkdirSync(foreignDir, { recursive: true });
  writeFileSync(join(foreignDir, 'hello.txt'), 'hello\n');
  const otherTar = join(work, 'other.tar.gz');
  await createTar({ gzip: true, file: otherTar, cwd: foreignDir, portable: true }, ['hello.txt']);
  const text = join(work, 'notes.txt');
  writeFileSync(text, 'not an archive at all\n');
  writeFileSync(
    join(foreignDir, 'conductor-backup.json'),
    JSON.stringify({ format: 'conductor-backup', formatVersion: 3, createdAt: new Date().toISOString(), conductorVersion: '9.0.0' }),
  );
  const newer = join(work, 'newer.tar.gz');
  await createTar({ gzip: true, file: newer, cwd: foreignDir, portable: true }, ['conductor-backup.json']);

  const empty = join(work, 'empty.tar.gz');
  writeFileSync(empty, '');
  for (const [file, why] of [
    [otherTar, /first member is hello\.txt/],
    [text, /not a Conductor backup \(not gzip-compressed/],
    [empty, /it is empty/],
    [newer, /format version 3/],
  ] as const) {
    const target = tempDir('conductor-target-');
    const result = await restoreInto(file, target);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /CND_ERR_BACKUP_FOREIGN/);
    assert.match(result.stderr, why);
    assert.deepEqual(filesUnder(target), []);
    rmSync(target, { recursive: true, force: true });
  }
});

test('a member named to escape the data directory is refused before a byte of it is written', async () => {
  const marker = Buffer.from(
    JSON.stringify({ format: 'conductor-backup', formatVersion: 2, createdAt: new Date().toISOString(), conductorVersion: '0.1.0' }),
  );
  const evil = Buffer.from('escaped\n');
  const member = (path: string, body: Buffer) => [fileHeader(path, body.length, 0o644, Date.now()), body, padding(body.length)];
  const crafted = join(work, 'escape.tar.gz');
  const outside = join(work, 'escaped.txt');
  writeFileSync(
    crafted,
    gzipSync(Buffer.concat([...member('conductor-backup.json', marker), ...member('data/handoff/../../../escaped.txt', evil), TAR_END])),
  );
  const target = join(work, 'escape-target');
  const result = await restoreInto(crafted, target);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /CND_ERR_BACKUP_DAMAGED: .*unexpected member data\/handoff\/\.\.\/\.\.\/\.\.\/escaped\.txt/);
  assert.equal(existsSync(outside), false);
  assert.deepEqual(filesUnder(target), []);
});

test('a data directory that holds files is not overwritten without --force; with it, its areas are replaced', async () => {
  const target = tempDir('conductor-target-');
  mkdirSync(join(target, 'processed'), { recursive: true });
  writeFileSync(join(target, 'processed', 'intent-mine.json'), '{}');
  writeFileSync(join(target, 'notes.txt'), "the operator's own file");
  const refused = await restoreInto(archive, target);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /CND_ERR_RESTORE_NOT_EMPTY: .*not empty \((notes\.txt|processed\/intent-mine\.json)/);
  assert.ok(existsSync(join(target, 'processed', 'intent-mine.json')));
  assert.equal(existsSync(join(target, 'out')), false);

  const forced = await restoreInto(archive, target, '--force');
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stderr, /replacing 2 files/);
  assert.equal(existsSync(join(target, 'processed', 'intent-mine.json')), false);
  assert.equal(intentFilesIn(join(target, 'processed')).length, 5);
  assert.equal(readFileSync(join(target, 'notes.txt'), 'utf8'), "the operator's own file", 'files outside the areas are left alone');
  assert.equal(
    readdirSync(target).some((n) => n.startsWith('.conductor-restore-')),
    false,
    'no staging left behind',
  );
  rmSync(target, { recursive: true, force: true });
});

test('empty directories and lost+found do not make a data directory "not empty"', async () => {
  const target = tempDir('conductor-target-');
  for (const dir of ['handoff', 'processed', 'state', 'lost+found']) mkdirSync(join(target, dir));
  writeFileSync(join(target, 'lost+found', '#1234'), 'fsck leftovers');
  const result = await restoreInto(archive, target);
  assert.equal(result.code, 0, result.stderr);
  rmSync(target, { recursive: true, force: true });
});

test('restore refuses a data directory that a running Conductor owns', async () => {
  const target = tempDir('conductor-target-');
  mkdirSync(join(target, 'state'));
  // The lock as a live process on this host writes it (this test process is alive).
  writeFileSync(
    join(target, 'state', 'conductor.lock'),
    JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }),
  );
  const result = await restoreInto(archive, target, '--force');
  assert.equal(result.code, 2);
  assert.match(result.stderr, /CND_ERR_LOCKED/);
  rmSync(target, { recursive: true, force: true });
});

test('backup refuses to overwrite an archive or to write inside an area it reads', async () => {
  const exists = await runCli(['backup', '--config', config, '--data-dir', sourceRoot, '--out', archive]);
  assert.equal(exists.code, 2);
  assert.match(exists.stderr, /exists; pass --force/);
  const inside = await runCli(['backup', '--config', config, '--data-dir', sourceRoot, '--out', join(sourceRoot, 'processed', 'b.tar.gz')]);
  assert.equal(inside.code, 2);
  assert.match(inside.stderr, /must not be inside/);
  assert.equal((await runCli(['backup', '--config', config, '--data-dir', sourceRoot])).code, 2);
});

test('backup --out - piped into restore - (the kubectl exec procedure) restores the same data', async () => {
  const target = tempDir('conductor-target-');
  const args = (command: string[]) => [CLI, ...command, '--config', config];
  const backup = spawn(process.execPath, args(['backup', '--data-dir', sourceRoot, '--out', '-']), { stdio: ['ignore', 'pipe', 'pipe'] });
  const restore = spawn(process.execPath, args(['restore', '-', '--data-dir', target]), { stdio: ['pipe', 'pipe', 'pipe'] });
  backup.stdout.pipe(restore.stdin);
  let stderr = '';
  restore.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = (child: { on(event: 'close', listener: (code: number | null) => void): unknown }) =>
    new Promise<number | null>((resolve) => child.on('close', resolve));
  const [backupCode, restoreCode] = await Promise.all([exit(backup), exit(restore)]);
  assert.equal(backupCode, 0);
  assert.equal(restoreCode, 0, stderr);
  assert.equal(commitsPerIntent(join(target, 'out')).size, 4);
  assert.deepEqual(intentFilesIn(join(target, 'processed')).sort(), intentFilesIn(join(sourceRoot, 'processed')).sort());
  rmSync(target, { recursive: true, force: true });
});
