// Issue 17, acceptance 1 and 3: `conductor plan` shows the change an intent would make to the
// git sink's repository and changes nothing (not HEAD, not the file, not a byte of the data
// directory); `conductor history` lists what was applied to a target from the repository alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { intentIdOf } from '../../core/intent/identity.ts';
import { runCli } from '../support/cli.ts';
import { dropIntent, fastConfig, list, makeDataDir, scaling, tempDir, writeJsonConfig } from '../support/data-dir.ts';
import { gitLog } from '../support/git.ts';

const HOLD_SINK = fileURLToPath(new URL('./fixtures/hold-sink.ts', import.meta.url));

/** Every path under `root` with its type, mode and content hash: equal snapshots mean nothing was written. */
function snapshot(root: string): Map<string, string> {
  const seen = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const stats = lstatSync(path);
      const key = path.slice(root.length);
      if (stats.isDirectory()) {
        seen.set(key, `dir ${stats.mode}`);
        walk(path);
      } else if (stats.isSymbolicLink()) seen.set(key, `link ${readlinkSync(path)}`);
      else seen.set(key, `file ${stats.mode} ${stats.mtimeMs} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`);
    }
  };
  walk(root);
  return seen;
}

/** Intents for default/web; the correlation_id names the intent (by default one per replicas value). */
const web = (replicas: number, correlation = `web-${replicas}`) =>
  scaling('web', replicas, { namespace: 'default', reason: `scale to ${replicas}`, correlation_id: correlation });

/** A data directory where `once` applied two intents for default/web: replicas 2, then 3. */
async function twoApplied(t: { after(fn: () => void): void }) {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const config = writeJsonConfig(dir.root, fastConfig(dir.root));
  const files = ['intent-web-2.json', 'intent-web-3.json'];
  dropIntent(dir.handoff, files[0]!, web(2), { ageMs: 60_000 });
  assert.equal((await runCli(['once', '--config', config])).code, 0);
  dropIntent(dir.handoff, files[1]!, web(3), { ageMs: 30_000 });
  assert.equal((await runCli(['once', '--config', config])).code, 0);
  assert.equal(gitLog(join(dir.root, 'out')).length, 2, 'two commits');
  const ids = [web(2), web(3)].map((intent, i) => intentIdOf(files[i]!, intent as unknown as Record<string, unknown>));
  return { dir, config, files, ids, out: join(dir.root, 'out') };
}

test('plan: the diff a third intent would make, with HEAD, the file and the data directory unchanged; a broken intent exits 1', async (t) => {
  const { dir, config, out } = await twoApplied(t);
  const elsewhere = tempDir('conductor-plan-');
  t.after(() => rmSync(elsewhere, { recursive: true, force: true }));
  const third = dropIntent(elsewhere, 'intent-web-7.json', web(7));
  const broken = dropIntent(elsewhere, 'intent-web-broken.json', scaling('web', 500, { namespace: 'default' }));
  const headBefore = gitLog(out)[0]!.hash;
  const before = snapshot(dir.root);
  const thirdBytes = readFileSync(third);

  const planned = await runCli(['plan', '--config', config, third]);
  assert.equal(planned.code, 0, planned.stderr);
  assert.match(planned.stdout, /intent-web-7\.json {2}intent [0-9a-f]{40}: would apply/);
  assert.match(planned.stdout, /^--- a\/default\/web\/deployment\.yaml$/m);
  assert.match(planned.stdout, /^-  replicas: 3$/m);
  assert.match(planned.stdout, /^\+  replicas: 7$/m);

  const refused = await runCli(['plan', '--config', config, broken]);
  assert.equal(refused.code, 1, refused.stdout);
  assert.match(
    refused.stdout,
    /intent-web-broken\.json {2}intent [0-9a-f]{40}: would be refused: \[validate\] CND_ERR_INTENT_INVALID: .*replicas must be <= 100/,
  );

  const json = await runCli(['plan', '--config', config, '--json', third]);
  assert.equal(json.code, 0, json.stderr);
  const [intent] = (
    JSON.parse(json.stdout) as { intents: { outcome: string; base: string; files: { path: string; before: string; after: string }[] }[] }
  ).intents;
  assert.equal(intent!.outcome, 'apply');
  assert.equal(intent!.base, headBefore, 'planned against HEAD');
  assert.deepEqual(
    intent!.files.map((f) => f.path),
    ['default/web/deployment.yaml'],
  );

  assert.equal(gitLog(out)[0]!.hash, headBefore, 'HEAD did not move');
  assert.deepEqual(readFileSync(third), thirdBytes);
  assert.deepEqual(list(elsewhere), ['intent-web-7.json', 'intent-web-broken.json'], 'the files stayed where they were');
  assert.deepEqual(snapshot(dir.root), before, 'not a byte of the data directory changed');
});

test('plan: an intent already applied is a duplicate; the same id with other content a conflict (exit 1)', async (t) => {
  const { dir, config, files } = await twoApplied(t);
  const again = dropIntent(tempDir('conductor-plan-'), files[1]!, web(3));
  t.after(() => rmSync(join(again, '..'), { recursive: true, force: true }));
  const duplicate = await runCli(['plan', '--config', config, again]);
  assert.equal(duplicate.code, 0, duplicate.stderr);
  assert.match(duplicate.stdout, /would be a duplicate: already committed in [0-9a-f]{40}/);
  const conflicting = dropIntent(join(again, '..'), 'intent-web-9.json', web(9, 'web-3'));
  // The correlation_id of the intent applied second, with other content.
  const conflict = await runCli(['plan', '--config', config, conflicting]);
  assert.equal(conflict.code, 1, conflict.stdout);
  assert.match(conflict.stdout, /would conflict: intent [0-9a-f]{40} was already committed with other content/);
  assert.ok(existsSync(join(dir.root, 'out')));
});

test('plan and history: a sink without plan() or history() says so (exit 1); no file or target is a usage error (exit 2)', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const config = writeJsonConfig(dir.root, fastConfig(dir.root));
  const usage = await runCli(['plan', '--config', config]);
  assert.equal(usage.code, 2, usage.stdout);
  assert.match(usage.stderr, /plan needs at least one intent file/);
  assert.equal((await runCli(['history', '--config', config, 'web'])).code, 2);
  assert.equal((await runCli(['history', '--config', config, '--limit', '0', 'default/web'])).code, 2);

  const { plugins } = fastConfig(dir.root) as { plugins: Record<string, unknown> };
  const { 'git-sink': _, ...others } = plugins;
  const holding = writeJsonConfig(
    dir.root,
    { dataDir: dir.root, modules: { 'hold-sink': HOLD_SINK }, plugins: { ...others, 'hold-sink': {} } },
    'hold.json',
  );
  const file = dropIntent(tempDir('conductor-plan-'), 'intent-web.json', web(4));
  t.after(() => rmSync(join(file, '..'), { recursive: true, force: true }));
  const plan = await runCli(['plan', '--config', holding, file]);
  assert.equal(plan.code, 1, plan.stdout);
  assert.match(plan.stderr, /the configured sink \(hold-sink\) cannot plan: it offers no plan\(\)/);
  const history = await runCli(['history', '--config', holding, 'default/web']);
  assert.equal(history.code, 1, history.stdout);
  assert.match(history.stderr, /the configured sink \(hold-sink\) cannot tell its history/);

  const help = await runCli(['--help']);
  assert.match(help.stdout, /^ {2}plan +show what the sink would do/m);
  assert.match(help.stdout, /^ {2}history +every intent the sink applied/m);
});

test('history: both intents for default/web in order with their commit ids, also after state/ was removed', async (t) => {
  const { dir, config, files, ids, out } = await twoApplied(t);
  const commits = gitLog(out).reverse();
  // A tracing plugin records the trace id in the status file; history joins it in.
  const status = join(dir.root, 'status', 'intent-web-3.status.json');
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  writeFileSync(status, JSON.stringify({ ...(JSON.parse(readFileSync(status, 'utf8')) as object), traceId }));
  for (const removeState of [false, true]) {
    if (removeState) rmSync(join(dir.root, 'state'), { recursive: true, force: true });
    const result = await runCli(['history', '--config', config, 'default/web']);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split('\n');
    assert.equal(lines.length, 2, result.stdout);
    lines.forEach((line, i) => {
      const trace = i === 1 ? `  trace ${traceId}` : '';
      assert.match(
        line,
        new RegExp(`${files[i]}  intent ${ids[i]}  replicas ${i + 2}  content [0-9a-f]{12}  receipt ${commits[i]!.hash}${trace}$`),
      );
    });
    const json = JSON.parse((await runCli(['history', '--config', config, '--json', '--limit', '1', 'default/web'])).stdout) as {
      entries: { intentId: string; receipt: { ref: string } }[];
    };
    assert.deepEqual(
      json.entries.map((e) => [e.intentId, e.receipt.ref]),
      [[ids[1], commits[1]!.hash]],
      '--limit 1: the newest',
    );
  }
  assert.match((await runCli(['history', '--config', config, 'default/none'])).stdout, /no intent applied to default\/none/);
});
