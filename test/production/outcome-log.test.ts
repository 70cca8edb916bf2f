// Issue 14, acceptance 1: `once` over a good and a broken intent tells the story in its logs —
// an info line per success, a warn line naming the broken file with its code, and a summary
// naming it — and the progress line's last frame shows the final counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { runCli, CLI, REPO_ROOT } from '../support/cli.ts';
import { dropIntent, fastConfig, makeDataDir, scaling, writeJsonConfig } from '../support/data-dir.ts';

type Line = Record<string, unknown> & { level: number; msg: string };
const INFO = 30;
const WARN = 40;

function jsonLines(stdout: string): Line[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);
}

function prepare(t: { after(fn: () => void): void }): { config: string } {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  dropIntent(dir.handoff, 'intent-good.json', scaling('cu-cp', 3));
  dropIntent(dir.handoff, 'intent-broken.json', scaling('Not_A_Label', 3));
  return { config: writeJsonConfig(dir.root, { ...fastConfig(dir.root), logLevel: 'info' }) };
}

test('once: an info line per success, a warn line naming the broken file and its code, a summary naming it', async (t) => {
  const { config } = prepare(t);
  const result = await runCli(['once', '--config', config]);
  assert.equal(result.code, 1, result.stderr);
  const lines = jsonLines(result.stdout);

  const good = lines.filter((l) => l['file'] === 'intent-good.json' && l['status'] !== undefined);
  assert.equal(good.length, 1, 'one outcome line for the good intent');
  assert.equal(good[0]!.level, INFO);
  assert.equal(good[0]!['status'], 'succeeded');
  assert.match(good[0]!.msg, /intent succeeded: intent-good\.json/);
  for (const field of ['intentId', 'stage', 'attempts', 'durationMs', 'receipt'])
    assert.ok(field in good[0]!, `the success line has ${field}`);

  const broken = lines.filter((l) => l['file'] === 'intent-broken.json' && l['status'] !== undefined);
  assert.equal(broken.length, 1, 'one outcome line for the broken intent');
  assert.equal(broken[0]!.level, WARN);
  assert.equal(broken[0]!['status'], 'failed');
  assert.equal(broken[0]!['code'], 'CND_ERR_INTENT_INVALID');
  assert.equal(broken[0]!['stage'], 'validate');
  assert.match(broken[0]!.msg, /intent-broken\.json: CND_ERR_INTENT_INVALID/);

  const summary = lines.at(-2)?.msg.startsWith('once:') ? lines.at(-2)! : lines.find((l) => l.msg.startsWith('once:'));
  assert.ok(summary, `a summary line:\n${result.stdout}`);
  assert.equal(summary.level, WARN);
  assert.match(summary.msg, /1 succeeded, .*1 failed/);
  assert.match(summary.msg, /failed: intent-broken\.json \(CND_ERR_INTENT_INVALID\)/);
  assert.deepEqual(summary['failedFiles'], [{ file: 'intent-broken.json', code: 'CND_ERR_INTENT_INVALID' }]);
});

test("once on a terminal: the progress line's last frame shows the final counts", async (t) => {
  const { config } = prepare(t);
  // `script` gives the CLI a terminal, as an operator running `once` by hand has.
  const command = [process.execPath, CLI, 'once', '--config', config, '--log-level', 'silent'].map((a) => `'${a}'`).join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 1, output);
  const frames = output
    .split('\r\x1b[K')
    .map((f) => f.trim())
    .filter((f) => f.length > 0);
  const last = frames.at(-1) ?? '';
  assert.match(last, /^2 done \(1 ok, 0 duplicate, 0 superseded, 1 failed, 0 left for later\), 0 in flight/, output);
});
