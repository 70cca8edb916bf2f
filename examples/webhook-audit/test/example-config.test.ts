// The example config runs: `conductor once --config examples/webhook-audit/conductor.config.ts`
// as a user would run it (the CLI in a child process), with a real webhook on 127.0.0.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sampleIntent } from '../../../core/testkit/index.ts';
import { startReceiver } from './support/receiver.ts';

// In a project that installed Conductor this is `npx conductor`.
const CLI = fileURLToPath(new URL('../../../core/cli/conductor.js', import.meta.url));
const CONFIG = fileURLToPath(new URL('../conductor.config.ts', import.meta.url));

function conductor(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

test('the example config runs the pipeline with the webhook-audit plugin', async (t) => {
  const receiver = await startReceiver();
  const dataDir = mkdtempSync(join(tmpdir(), 'webhook-audit-example-'));
  t.after(async () => {
    await receiver.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  mkdirSync(join(dataDir, 'handoff'));
  writeFileSync(join(dataDir, 'handoff', 'intent-ok.json'), JSON.stringify(sampleIntent({ target: 'cu-cp' })));
  writeFileSync(join(dataDir, 'handoff', 'intent-bad.json'), JSON.stringify(sampleIntent({ target: 'Not A Label' })));

  const result = await conductor(['once', '--config', CONFIG, '--data-dir', dataDir, '--log-level', 'warn'], {
    WEBHOOK_AUDIT_URL: receiver.url,
  });

  assert.equal(result.code, 1, `exit 1: one intent failed (stderr: ${result.stderr})`);
  const sent = receiver.received.map((request) => [request.json?.outcome?.['file'], request.json?.outcome?.['status']]).sort();
  assert.deepEqual(sent, [
    ['intent-bad.json', 'failed'],
    ['intent-ok.json', 'succeeded'],
  ]);
  assert.deepEqual(readdirSync(join(dataDir, 'processed')), ['intent-ok.json']);
});

test('the example config refuses to start without WEBHOOK_AUDIT_URL, naming it', async () => {
  const result = await conductor(['validate', '--config', CONFIG], { WEBHOOK_AUDIT_URL: undefined });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /plugins\.webhook-audit\.url: environment variable WEBHOOK_AUDIT_URL is not set/);
});
