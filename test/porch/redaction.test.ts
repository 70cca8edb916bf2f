// Issue 19, defect 1 and acceptance 1: a server that echoes the credentials it was sent. A real
// HTTP server on 127.0.0.1 answers the Porch requests with 403 and 500 whose JSON and text bodies
// quote `denied for Bearer <token>`, the bare token, and the client key. After `conductor once`
// (at debug level, with the audit log, the otel plugin exporting to a local OTLP receiver and the
// health endpoints served), the token and the key appear in no file of the data directory (the
// ledger's sqlite files and the audit log included), no log line, no span and no HTTP answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { startCli } from '../support/cli.ts';
import { dropIntent, scaling, tempDir, writeJsonConfig } from '../support/data-dir.ts';
import { freePort } from '../support/ports.ts';
import { waitFor } from '../support/wait.ts';
import { startOtlpReceiver } from '../observability/support/otlp-receiver.ts';
import { dataDirectory, filesIn, removeAll } from './support/harness.ts';
import { makePki } from './support/tls.ts';
import { readKubeconfig } from '../../plugins/porch-sink/kubeconfig.ts';
import { redactText } from '../../plugins/porch-sink/redact.ts';

const TOKEN = 'sekret-token-4a8f2c19d7e3b650';

/** Answers every request as a server that quotes what it was sent would. */
async function startEchoServer(key: string): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const keyLine = key.split('\n').find((line) => line.length > 40) ?? key;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const authorization = request.headers['authorization'] ?? '';
    const url = new URL(request.url ?? '/', 'http://localhost');
    seen.push(`${request.method} ${url.pathname}${url.search}`);
    const selector = url.searchParams.get('fieldSelector') ?? '';
    if (selector.includes('packageName=denied')) {
      // A Status as Porch's webhooks and admission answer, quoting the request.
      response.writeHead(403, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          reason: 'Forbidden',
          code: 403,
          message: `denied for ${authorization} (token ${TOKEN})`,
          details: { causes: [{ reason: 'FieldValueForbidden', message: `credential ${TOKEN}`, field: keyLine }] },
        }),
      );
      return;
    }
    if (selector.includes('packageName=garbled')) {
      // A 200 that is not JSON: the parser's own message would quote it.
      response.writeHead(200, { 'content-type': 'application/json' }).end(`${TOKEN} ${authorization}`);
      return;
    }
    // Everything else (discovery, the "broken" package): a proxy's text page quoting it all.
    response
      .writeHead(500, { 'content-type': 'text/plain' })
      .end(`internal error for ${authorization}\nbare ${TOKEN}\n${key}\nline ${keyLine}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function everyFile(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

test(
  'a server that echoes the token and the key: neither reaches a file, a log line, a span or an HTTP answer',
  { timeout: 120_000 },
  async (t) => {
    const secrets = tempDir('conductor-secrets-');
    const pki = makePki(secrets);
    const key = readFileSync(pki.clientKeyFile, 'utf8');
    const keyLines = key.split('\n').filter((line) => line.length > 40);
    const echo = await startEchoServer(key);
    const receiver = await startOtlpReceiver();
    const dir = dataDirectory();
    t.after(async () => {
      await echo.close();
      await receiver.close();
      dir.cleanup();
      removeAll(secrets);
    });
    const tokenFile = join(secrets, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    for (const name of ['denied', 'broken', 'garbled']) dropIntent(dir.handoff, `intent-${name}.json`, scaling(name, 2), { atomic: true });
    const healthPort = await freePort();
    const config = writeJsonConfig(dir.root, {
      dataDir: dir.root,
      logLevel: 'debug',
      retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 50, budgetMs: 3_000 },
      plugins: {
        'fs-source': { debounceMs: 0 },
        'schema-validate': {},
        'porch-sink': {
          server: echo.url,
          tokenFile,
          certFile: pki.clientCertFile,
          keyFile: pki.clientKeyFile,
          circuitBreaker: { failureThreshold: 3, resetMs: 60_000 },
        },
        'audit-log': {},
        otel: { endpoint: receiver.endpoint, serviceName: 'redaction-test', scheduledDelayMs: 50 },
        health: { port: healthPort, host: '127.0.0.1' },
      },
    });

    const running = startCli(['once', '--config', config]);
    // While it runs: what the health endpoints answer, until readiness reports the open circuit.
    const answers: string[] = [];
    const probe = async (path: string) => {
      try {
        const response = await fetch(`http://127.0.0.1:${healthPort}${path}`);
        const body = await response.text();
        answers.push(body);
        return body;
      } catch {
        return '';
      }
    };
    await waitFor(
      'readiness to report the open circuit',
      async () => {
        for (const path of ['/healthz', '/startup', '/healthz?verbose']) await probe(path);
        return (await probe('/ready')).includes('circuit open');
      },
      60_000,
      50,
    );
    const run = await running.exited;
    assert.equal(run.code, 3, `once exits 3 (the broken intents wait): ${run.stderr.slice(-1_000)}`);

    // The intents did what the server said: one failed permanently, the others wait.
    assert.deepEqual(filesIn(dir.root, 'failed'), ['intent-denied.json']);
    assert.deepEqual(filesIn(dir.root, 'handoff').sort(), ['intent-broken.json', 'intent-garbled.json']);
    const failure = readFileSync(join(dir.root, 'failed', 'intent-denied.error.json'), 'utf8');
    assert.match(failure, /denied for Bearer \[redacted\]/, 'the server\u2019s words are kept, without the token');
    assert.ok(answers.some((a) => a.includes('circuit open after repeated failures: ')));
    assert.ok(echo.seen.length > 0);

    const leaks = (text: string) => text.includes(TOKEN) || keyLines.some((line) => text.includes(line));
    await waitFor('the spans exported', () => receiver.spans().some((s) => s.status.code === 2), 20_000);
    for (const file of everyFile(dir.root)) assert.ok(!leaks(readFileSync(file, 'latin1')), `no secret in ${file}`);
    const logLines = `${run.stdout}\n${run.stderr}`.split('\n');
    assert.ok(
      logLines.some((line) => line.includes('"level":20')),
      'debug lines were written',
    );
    assert.deepEqual(logLines.filter(leaks), [], 'no log line holds a secret');
    assert.ok(!leaks(JSON.stringify(receiver.spans())), 'no span holds a secret');
    assert.deepEqual(answers.filter(leaks), [], 'no HTTP answer holds a secret');
  },
);

test('a kubeconfig with a YAML syntax error: the error names the place, not the offending line', (t) => {
  const dir = tempDir('conductor-kubeconfig-');
  t.after(() => removeAll(dir));
  const path = join(dir, 'kubeconfig');
  const good = YAML.stringify({ 'current-context': 'c', users: [{ name: 'u', user: { token: TOKEN } }] });
  // An unclosed quote on the token's line.
  writeFileSync(path, good.replace(`token: ${TOKEN}`, `token: "${TOKEN}`));
  assert.throws(
    () => readKubeconfig(path),
    (error: Error) => {
      assert.match(error.message, /is not valid YAML: syntax error at line \d+, column \d+/);
      assert.ok(!error.message.includes(TOKEN) && !JSON.stringify(error).includes(TOKEN) && error.cause === undefined, error.message);
      return true;
    },
  );
});

test('redactText: PEM blocks, Authorization values, URL passwords and the given secrets; prose stays', () => {
  const pem = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----';
  assert.equal(redactText(`key ${pem} end`), 'key [redacted PEM block] end');
  assert.equal(redactText('denied for Bearer abc.def-123'), 'denied for Bearer [redacted]');
  assert.equal(redactText('Authorization: Basic dXNlcjpwYXNzd29yZA=='), 'Authorization: Basic [redacted]');
  assert.equal(redactText('Bearer tokens expire'), 'Bearer tokens expire');
  assert.equal(redactText('see https://user:hunter22@example.com/x'), 'see https://user:[redacted]@example.com/x');
  assert.equal(redactText(`a ${TOKEN} b`, [TOKEN]), 'a [redacted] b');
});
