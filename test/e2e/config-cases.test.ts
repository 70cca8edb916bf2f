// Issue 8, acceptance 2 and `conductor graph`: the default config's declarative cases pass, and
// a case changed to expect something else fails, named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/data-dir.ts';

const CASES = fileURLToPath(new URL('../config-cases/', import.meta.url));

test('conductor test passes on the default config cases', async () => {
  const result = await runCli(['test']);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /^ok {4}a scaling intent becomes a Kptfile and a Deployment with its replicas$/m);
  assert.match(result.stdout, /(\d+) passed, 0 failed/);
});

test('conductor test fails, naming the case, when a case expects something else', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(CASES, dir, { recursive: true });
  const file = join(dir, 'accepted.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('spec: { replicas: 5 }', 'spec: { replicas: 6 }'));
  const refused = join(dir, 'refused.yaml');
  writeFileSync(
    refused,
    readFileSync(refused, 'utf8').replace(
      'expect: { status: failed, stage: sanitize, code: CND_ERR_INTENT_REJECTED, message: /blocked pattern/ }',
      'expect: { status: failed, stage: validate }',
    ),
  );
  const result = await runCli(['test', dir]);
  assert.equal(result.code, 1);
  assert.match(
    result.stdout,
    /FAIL {2}a scaling intent becomes a Kptfile and a Deployment with its replicas \(accepted\.yaml#1\)\n {8}deployment\.yaml\.spec\.replicas: expected 6, got 5/,
  );
  assert.match(
    result.stdout,
    /FAIL {2}a command substitution in the reason is refused by the sanitizer \(refused\.yaml#9\)\n {8}expected stage validate, got sanitize/,
  );
  assert.match(result.stdout, /2 failed/);
});

test('conductor graph shows each stage with its plugins in order, and the start order', async () => {
  const result = await runCli(['graph', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const graph = JSON.parse(result.stdout) as { stages: Record<string, string[]>; sinks: Record<string, string[]>; startOrder: string[] };
  assert.deepEqual(graph.stages, {
    source: ['fs-source'],
    validate: ['schema-validate'],
    sanitize: ['sanitize'],
    'rate-limit': ['rate-limit'],
    submit: ['git-sink'],
    audit: ['audit-log'],
  });
  assert.deepEqual(graph.sinks, { 'git-sink': ['plan', 'history'] }, 'the sink answers conductor plan and conductor history');
  assert.equal(graph.startOrder.at(-1), 'fs-source', 'sources start last');
  assert.equal(graph.startOrder[0], 'audit-log', 'the most downstream stage starts first');
  const text = await runCli(['graph']);
  assert.match(text.stdout, /validate {3}schema-validate/);
  assert.match(text.stdout, /sink {7}git-sink answers `conductor plan` and `conductor history`/);
});
