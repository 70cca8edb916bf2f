// Issue 5, acceptance 5: a porch-like sink with a token from the environment (in the config as
// ${env:…}) and another from a token file logs its options and its request headers at debug;
// every log line, the audit log, `conductor print-config`, the status and error files, the
// metrics, the /ready body and the exported spans are then searched for both tokens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConductorConfig } from '../../core/index.ts';
import { runCli } from '../support/cli.ts';
import { get } from './support/http.ts';
import { freePort } from '../support/ports.ts';
import { startOtlpReceiver } from './support/otlp-receiver.ts';
import { dropIntent, FAST, makeDataDir, openPipeline, scaling, startAndSettle } from './support/pipeline.ts';

const SECRET_SINK = fileURLToPath(new URL('./support/secret-sink.ts', import.meta.url));
const ENV_TOKEN = 'sk-env-7f3a9c1e5b2d4f60a8e9';
const FILE_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.file-token-0c4b8e2a';

function filesIn(dir: string): string[] {
  return readdirSync(dir).map((name) => join(dir, name));
}

test('no token appears in the logs, the audit log, print-config, status files, metrics, /ready or spans', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const receiver = await startOtlpReceiver();
  t.after(() => receiver.close());
  const tokenFile = join(dir.root, 'porch-token');
  writeFileSync(tokenFile, `${FILE_TOKEN}\n`);
  const [healthPort, metricsPort] = [await freePort(), await freePort()];
  const config: ConductorConfig = {
    dataDir: dir.root,
    logLevel: 'trace',
    ...FAST,
    modules: { 'secret-sink': SECRET_SINK },
    plugins: {
      'fs-source': { debounceMs: 0 },
      'schema-validate': {},
      'secret-sink': { token: '${env:CND_TEST_PORCH_TOKEN}', tokenFile },
      'audit-log': {},
      prometheus: { port: metricsPort, host: '127.0.0.1' },
      health: { port: healthPort, host: '127.0.0.1' },
      // A collector URL with credentials in it: only ever shown redacted.
      otel: { endpoint: receiver.endpoint.replace('http://', 'http://conductor:${env:CND_TEST_PORCH_TOKEN}@') },
    },
  };
  const env = { ...process.env, CND_TEST_PORCH_TOKEN: ENV_TOKEN };
  dropIntent(dir.handoff, 'intent-ok.json', scaling('app-1', 2));
  dropIntent(dir.handoff, 'intent-retry.json', scaling('retry-1', 2));
  dropIntent(dir.handoff, 'intent-bad.json', scaling('app-2', -5));
  const logFile = join(dir.root, 'conductor.log');

  const conductor = await openPipeline(config, { logFile, logLevel: 'trace', env });
  await startAndSettle(conductor, 3);
  const metrics = await get(`http://127.0.0.1:${metricsPort}/metrics`);
  const ready = await get(`http://127.0.0.1:${healthPort}/ready`);
  await conductor.stop();

  const configFile = join(dir.root, 'conductor.json');
  writeFileSync(configFile, JSON.stringify(config));
  const printed = await runCli(['print-config', '--config', configFile], { env: { CND_TEST_PORCH_TOKEN: ENV_TOKEN } });
  assert.equal(printed.code, 0, printed.stderr);
  assert.match(printed.stdout, /"token": "\[redacted\]"/, 'the token option is there, redacted');

  const log = readFileSync(logFile, 'utf8');
  // The careless logging did happen (and was redacted), and the trace id is bound to the
  // intent's log lines.
  assert.match(log, /"msg":"submitting"/);
  assert.match(log, /"authorization":"\[redacted\]"/);
  assert.match(log, /"traceId":"[0-9a-f]{32}".*"msg":"submitting"/);

  const places: [string, string][] = [
    ['the log', log],
    ['the audit log', readFileSync(join(dir.root, 'audit', 'audit.log'), 'utf8')],
    ['print-config', printed.stdout + printed.stderr],
    ['the metrics', metrics.text],
    ['/ready', ready.text],
    ['the exported spans', JSON.stringify(receiver.spans())],
    ...[...filesIn(join(dir.root, 'status')), ...filesIn(join(dir.root, 'failed'))].map((file): [string, string] => [
      file,
      readFileSync(file, 'utf8'),
    ]),
  ];
  assert.ok(receiver.spans().length > 0 && places.length >= 9);
  for (const [where, text] of places) {
    assert.ok(text.length > 0, `${where} is not empty`);
    for (const secret of [ENV_TOKEN, FILE_TOKEN]) assert.ok(!text.includes(secret), `${where} contains a token`);
  }
});
