// Issue 19, defect 7 (hardening): symlinked data areas are refused; a config or plugin module
// others can write is refused at start and on reload; what Conductor creates is owner-only
// whatever the umask, and restore does not take modes from the archive; `conductor status`
// shows escape sequences in file names instead of obeying them; values taken from the
// environment are redacted in print-config and in the log whatever their key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, REPO_ROOT, runCli, startCli, type CliResult } from '../support/cli.ts';
import { dropIntent, fastConfig, makeDataDir, scaling, tempDir, writeJsonConfig } from '../support/data-dir.ts';
import { waitFor } from '../support/wait.ts';

/** The CLI under a shell's umask, as an operator's shell would start it. */
function runWithUmask(umask: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', `umask ${umask}; exec "$0" "$@"`, process.execPath, CLI, ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

function modesUnder(dir: string): { path: string; mode: number; directory: boolean }[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).map((e) => {
    const path = join(e.parentPath, e.name);
    return { path, mode: statSync(path).mode & 0o777, directory: e.isDirectory() };
  });
}

for (const area of ['handoff', 'processed', 'status', 'failed', 'state', 'audit']) {
  test(`a data directory whose ${area}/ is a symbolic link is refused at start, naming it`, async (t) => {
    const data = tempDir('conductor-linked-');
    const elsewhere = tempDir('conductor-elsewhere-');
    t.after(() => [data, elsewhere].forEach((dir) => rmSync(dir, { recursive: true, force: true })));
    writeFileSync(join(elsewhere, 'canary.txt'), 'keep me\n');
    symlinkSync(elsewhere, join(data, area));
    const config = writeJsonConfig(tempDir('conductor-cfg-'), fastConfig(data));
    const result = await runCli(['once', '--config', config]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, new RegExp(`CND_ERR_DATA_DIR_UNSAFE: .*${area} is a symbolic link`));
    assert.deepEqual(readdirSync(elsewhere), ['canary.txt'], 'nothing was written or deleted through the link');
  });
}

test('a config file or plugin module writable by group or others is refused at start', async (t) => {
  const data = makeDataDir();
  const work = tempDir('conductor-cfg-');
  t.after(() => [data.root, work].forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const config = writeJsonConfig(work, fastConfig(data.root));
  chmodSync(config, 0o666);
  const open = await runCli(['once', '--config', config]);
  assert.equal(open.code, 2, open.stderr);
  assert.match(open.stderr, /CND_ERR_CONFIG_LOAD: refusing to load config .*writable by its group or by anyone \(mode 0666\)/);
  chmodSync(config, 0o600);

  // A module config (code) the same: refused before it runs.
  const marker = join(work, 'ran.txt');
  const moduleConfig = join(work, 'conductor.config.mjs');
  writeFileSync(
    moduleConfig,
    `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'ran');\nexport default ${JSON.stringify(fastConfig(data.root))};\n`,
  );
  chmodSync(moduleConfig, 0o664);
  const code = await runCli(['once', '--config', moduleConfig]);
  assert.equal(code.code, 2, code.stderr);
  assert.equal(existsSync(marker), false, 'the module config was not run');

  // A plugin module named under `modules`.
  const plugin = join(work, 'my-sink.mjs');
  writeFileSync(plugin, "export default { name: 'my-sink' };\n");
  chmodSync(plugin, 0o666);
  const withModule = writeJsonConfig(work, { ...fastConfig(data.root), modules: { 'my-sink': './my-sink.mjs' } }, 'with-module.json');
  const refused = await runCli(['once', '--config', withModule]);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /modules\.my-sink: refusing to load module: .*my-sink\.mjs is writable by its group or by anyone/);
});

test('a config made world-writable is refused on reload; the running pipeline goes on', async (t) => {
  const data = makeDataDir();
  const work = tempDir('conductor-cfg-');
  t.after(() => [data.root, work].forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const config = writeJsonConfig(work, { ...fastConfig(data.root), logLevel: 'info' });
  const running = startCli(['run', '--config', config]);
  t.after(() => running.child.kill('SIGKILL'));
  await waitFor('conductor started', () => running.output().stdout.includes('conductor started'), 30_000);
  writeJsonConfig(work, { ...fastConfig(data.root), logLevel: 'debug' });
  chmodSync(config, 0o666);
  running.child.kill('SIGHUP');
  await waitFor(
    'the reload refused',
    () => /config reload refused.*writable by its group or by anyone/.test(running.output().stdout),
    30_000,
  );
  dropIntent(data.handoff, 'intent-after.json', scaling('after-reload', 2), { atomic: true });
  await waitFor('the intent processed', () => existsSync(join(data.root, 'processed', 'intent-after.json')), 30_000);
  assert.doesNotMatch(running.output().stdout, /config reload applied/);
});

test('under umask 022 what Conductor creates is owner-only, and restore does not take modes from the archive', async (t) => {
  const data = makeDataDir();
  const work = tempDir('conductor-modes-');
  const restored = tempDir('conductor-restored-');
  t.after(() => [data.root, work, restored].forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const config = writeJsonConfig(work, fastConfig(data.root));
  dropIntent(data.handoff, 'intent-ok.json', scaling('modes', 2));
  dropIntent(data.handoff, 'intent-bad.json', '{ not json');
  const once = await runWithUmask('022', ['once', '--config', config]);
  assert.equal(once.code, 1, once.stderr);
  const created = modesUnder(data.root).filter((e) => !e.path.startsWith(join(data.root, 'out', '.git')));
  for (const path of [
    'state/ledger.sqlite',
    'audit/audit.log',
    'audit/audit.log.head',
    'processed/intent-ok.json',
    'failed/intent-bad.json',
    'failed/intent-bad.error.json',
  ]) {
    assert.ok(existsSync(join(data.root, path)), path);
  }
  assert.ok(readdirSync(join(data.root, 'status')).length === 2);
  // handoff/ is the producers' (the test made it); everything else Conductor created.
  const open = created.filter((e) => e.path !== data.handoff && (e.mode & 0o077) !== 0);
  assert.deepEqual(
    open.map((e) => `${e.path} ${e.mode.toString(8)}`),
    [],
    'no file or directory is readable by others',
  );

  const archive = join(work, 'backup.tar.gz');
  chmodSync(join(data.root, 'processed', 'intent-ok.json'), 0o666); // what an archive could say
  const backup = await runWithUmask('022', ['backup', '--config', config, '--out', archive]);
  assert.equal(backup.code, 0, backup.stderr);
  assert.equal(statSync(archive).mode & 0o777, 0o600, 'the backup is owner-only');
  const restore = await runWithUmask('022', ['restore', archive, '--config', config, '--data-dir', restored]);
  assert.equal(restore.code, 0, restore.stderr);
  const after = modesUnder(restored).filter((e) => !e.path.includes(`${join(restored, 'out')}/`) || e.path.includes('/.git/objects/'));
  const wrong = after.filter((e) => (e.directory ? e.mode & 0o077 : e.mode !== 0o600));
  assert.deepEqual(
    wrong.map((e) => `${e.path} ${e.mode.toString(8)}`),
    [],
  );
});

test('conductor status shows escape sequences in file names instead of printing them raw', async (t) => {
  const data = makeDataDir();
  const work = tempDir('conductor-status-');
  t.after(() => [data.root, work].forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const config = writeJsonConfig(work, fastConfig(data.root, { 'fs-source': { debounceMs: 0, pattern: '*.json' } }));
  const name = 'intent-\u001b]0;owned\u0007\u001b[2J.json';
  dropIntent(data.handoff, name, scaling('escapes', 2));
  const once = await runCli(['once', '--config', config]);
  assert.equal(once.code, 0, once.stderr);
  const status = await runCli(['status', '--config', config, name]);
  assert.equal(status.code, 0, status.stderr);
  // oxlint-disable-next-line no-control-regex -- control characters are what must not reach the terminal
  assert.doesNotMatch(status.stdout, /[\u0000-\u0008\u000b-\u001f\u007f]/, 'no control character reaches the terminal');
  assert.match(status.stdout, /intent-\\x1b\]0;owned\\x07\\x1b\[2J\.json/);
});

test('a value from ${env:…} is redacted in print-config and in the log, whatever its key', async (t) => {
  const data = makeDataDir();
  const work = tempDir('conductor-env-');
  t.after(() => [data.root, work].forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const secret = 's3cr3t-value-from-env';
  // A key that says nothing of a secret: the value still came from the environment.
  const config = writeJsonConfig(work, {
    ...fastConfig(data.root, { 'git-sink': { authorName: '${env:CND_TEST_AUTHOR}' } }),
    logLevel: 'debug',
  });
  const env = { ...process.env, CND_TEST_AUTHOR: secret };
  const printed = await runCli(['print-config', '--config', config], { env });
  assert.equal(printed.code, 0, printed.stderr);
  assert.ok(!printed.stdout.includes(secret), printed.stdout);
  assert.match(printed.stdout, /"authorName": "\[redacted\]"/);
  // The log: the data directory comes from the environment too, and the start line names it.
  const fromEnv = writeJsonConfig(work, { ...fastConfig('${env:CND_TEST_DATA_DIR}'), logLevel: 'info' }, 'env-dir.json');
  const once = await runCli(['once', '--config', fromEnv], { env: { ...env, CND_TEST_DATA_DIR: data.root } });
  assert.equal(once.code, 0, once.stderr);
  assert.match(once.stdout, /conductor started/);
  assert.ok(!once.stdout.includes(data.root) && !once.stderr.includes(data.root), once.stdout);
});

test('a settled symlink is not followed when its mode is restricted: what it points to keeps its mode', async (t) => {
  const data = makeDataDir();
  const work = tempDir('conductor-link-mode-');
  t.after(() => [data.root, work].forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const target = join(work, 'outside.json');
  writeFileSync(target, JSON.stringify(scaling('outside', 1)));
  chmodSync(target, 0o644);
  symlinkSync(target, join(data.handoff, 'intent-link.json'));
  const config = writeJsonConfig(work, fastConfig(data.root));
  const once = await runWithUmask('022', ['once', '--config', config]);
  assert.equal(once.code, 1, once.stderr);
  assert.equal(statSync(target).mode & 0o777, 0o644);
});
