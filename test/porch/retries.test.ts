// Issue 13, defect 10: under moderate faults the default retry settings must serve. 101 intents
// against a Porch that answers 20 % of requests with a 5xx, 10 % with 429 + Retry-After, and
// applies 10 % of the writes but loses the answer: `conductor once` with the default retry
// policy delivers every intent exactly once and exits 0. A server that stays down still ends
// `once` with exit 3, in bounded time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CircuitBreaker } from '../../core/index.ts';
import { StaticToken } from '../../plugins/porch-sink/auth.ts';
import { ApiError, KubeClient } from '../../plugins/porch-sink/client.ts';
import { runCli } from '../support/cli.ts';
import { writeJsonConfig } from '../support/data-dir.ts';
import {
  BLUEPRINT,
  NOISY_PORCH,
  assertDeliveredExactlyOnce,
  dataDirectory,
  dropScalingIntents,
  failedReasons,
  filesIn,
  startSim,
} from './support/harness.ts';

/** The porch pipeline with every core setting at its default (retry, concurrency, requeue). */
function defaultPorchConfig(dataDir: string, sink: Record<string, unknown>): Record<string, unknown> {
  return {
    dataDir,
    logLevel: 'warn',
    plugins: { 'fs-source': {}, 'schema-validate': {}, 'porch-sink': { blueprint: BLUEPRINT, ...sink } },
  };
}

test(
  '101 intents through 20% 5xx, 10% 429 and 10% lost replies with the default config: all delivered once, exit 0',
  { timeout: 300_000 },
  async (t) => {
    const sim = await startSim({ faults: NOISY_PORCH, seed: 13 });
    const dir = dataDirectory();
    t.after(async () => {
      await sim.close();
      dir.cleanup();
    });
    const dropped = dropScalingIntents(dir.handoff, 101);
    const config = writeJsonConfig(dir.root, defaultPorchConfig(dir.root, { server: sim.url, approve: true }));
    const started = performance.now();
    const run = await runCli(['once', '--config', config]);
    t.diagnostic(
      `once exit ${run.code} after ${Math.round(performance.now() - started)} ms; faults: ${JSON.stringify(sim.faults.counts())}`,
    );
    assert.equal(
      run.code,
      0,
      `once exits 0; left in handoff: ${filesIn(dir.root, 'handoff').length}; ${run.stderr}${run.stdout.slice(-2_000)}`,
    );
    assert.deepEqual(failedReasons(dir.root), [], 'nothing failed');
    assert.equal(filesIn(dir.root, 'handoff').length, 0, 'nothing left waiting');
    assert.equal(filesIn(dir.root, 'processed').length, 101);
    const counts = sim.faults.counts();
    assert.ok(counts['server-error'] > 0 && counts['rate-limit'] > 0 && counts['apply-then-fail'] > 0, 'every kind of fault was injected');
    assertDeliveredExactlyOnce(sim, dropped, 'Published');
  },
);

test(
  'a Porch that stays down: once gives up with exit 3 in bounded time, the intents stay in handoff/',
  { timeout: 300_000 },
  async (t) => {
    const sim = await startSim({ seed: 14 });
    const dir = dataDirectory();
    t.after(async () => {
      await sim.close();
      dir.cleanup();
    });
    sim.faults.set({ error5xxRate: 1, error5xxStatus: 503 });
    dropScalingIntents(dir.handoff, 5);
    const config = writeJsonConfig(dir.root, defaultPorchConfig(dir.root, { server: sim.url, approve: true }));
    const run = await runCli(['once', '--config', config]);
    assert.equal(run.code, 3, `once exits 3: ${run.stderr}${run.stdout.slice(-2_000)}`);
    assert.equal(filesIn(dir.root, 'handoff').length, 5, 'every intent still waits');
    assert.deepEqual(failedReasons(dir.root), [], 'nothing failed');
  },
);

// The client's own repeats, request by request, against a scripted server on 127.0.0.1.
interface Answer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

async function scriptedServer(answers: Answer[]): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    request.resume();
    const answer = answers.shift() ?? { status: 200, body: '{}' };
    const body =
      answer.body ?? JSON.stringify({ kind: 'Status', status: 'Failure', code: answer.status, message: `status ${answer.status}` });
    response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function clientFor(url: string, token?: string): KubeClient {
  return new KubeClient({
    connection: {
      origin: url,
      basePath: '',
      tls: { rejectUnauthorized: true },
      token: token === undefined ? undefined : new StaticToken(token),
      source: 'test',
      warnings: [],
    },
    timeoutMs: 5_000,
    concurrency: 2,
    breaker: new CircuitBreaker({ name: 'test', failureThreshold: 1_000 }),
    retry: { initialDelayMs: 1, maxDelayMs: 5, maxRetries: 4 },
  });
}

const status = (code: number, message: string): Answer => ({
  status: code,
  body: JSON.stringify({ kind: 'Status', status: 'Failure', code, message }),
});

test('client: 503, a plain 500 and a 429 are repeated (the 429 after its Retry-After); the answer comes back', async (t) => {
  const server = await scriptedServer([
    status(503, 'service unavailable'),
    status(500, 'git push failed'),
    { status: 429, body: 'Too many requests', headers: { 'retry-after': '1', 'content-type': 'text/plain' } },
    { status: 200, body: '{"ok":true}' },
  ]);
  const client = clientFor(server.url);
  t.after(async () => {
    await client.close();
    await server.close();
  });
  const started = performance.now();
  assert.deepEqual(await client.request({ method: 'GET', path: '/x' }), { ok: true });
  assert.equal(server.requests.length, 4);
  assert.ok(performance.now() - started >= 1_000, 'the Retry-After was waited');
});

test('client: writes are not repeated when the answer means something to the flow (stale, maybe applied, duplicate)', async (t) => {
  const server = await scriptedServer([
    status(500, 'Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version'),
    status(504, 'Timeout: request did not complete within the allotted timeout'),
    status(500, 'workspaceNames must be unique'),
    status(500, 'git push failed'),
    { status: 201, body: '{"created":true}' },
    status(504, 'Timeout'),
    { status: 200, body: '{"read":true}' },
  ]);
  const client = clientFor(server.url);
  t.after(async () => {
    await client.close();
    await server.close();
  });
  await assert.rejects(client.request({ method: 'PUT', path: '/a', body: {} }), (e: ApiError) => e.status === 500);
  await assert.rejects(client.request({ method: 'PUT', path: '/b', body: {} }), (e: ApiError) => e.status === 504);
  await assert.rejects(client.request({ method: 'POST', path: '/c', body: {} }), (e: ApiError) => /workspaceNames/.test(e.serverMessage));
  assert.deepEqual(
    await client.request({ method: 'POST', path: '/d', body: {} }),
    { created: true },
    'a plain 500 on a conditional write is repeated',
  );
  assert.deepEqual(await client.request({ method: 'GET', path: '/e' }), { read: true }, 'a 504 on a read is repeated');
  assert.deepEqual(server.requests, ['PUT /a', 'PUT /b', 'POST /c', 'POST /d', 'POST /d', 'GET /e', 'GET /e']);
});

test('client: bounded repeats, and a Retry-After beyond the bound goes back to the caller', async (t) => {
  const always503 = Array.from({ length: 10 }, () => status(503, 'service unavailable'));
  const server = await scriptedServer([
    { status: 429, body: 'slow down', headers: { 'retry-after': '120', 'content-type': 'text/plain' } },
    ...always503,
  ]);
  const client = clientFor(server.url);
  t.after(async () => {
    await client.close();
    await server.close();
  });
  await assert.rejects(client.request({ method: 'GET', path: '/long' }), (e: ApiError) => e.status === 429 && e.retryAfterMs === 120_000);
  assert.equal(server.requests.length, 1, 'a two-minute Retry-After is not waited inside one request');
  await assert.rejects(client.request({ method: 'GET', path: '/down' }), (e: ApiError) => e.status === 503);
  assert.equal(server.requests.length, 1 + 5, 'the first try and four repeats');
});

test('client: a good answer is never redacted (package files may hold PEM blocks); a refusal loses the token', async (t) => {
  const pem = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2x1c3RlciBDQSBjZXJ0aWZpY2F0ZQ==\n-----END CERTIFICATE-----';
  const token = 'client-test-token-0123456789';
  const server = await scriptedServer([
    { status: 200, body: JSON.stringify({ files: { 'ca.crt': pem } }) },
    status(403, `denied for Bearer ${token}`),
  ]);
  const client = clientFor(server.url, token);
  t.after(async () => {
    await client.close();
    await server.close();
  });
  assert.deepEqual(await client.request({ method: 'GET', path: '/resources' }), { files: { 'ca.crt': pem } });
  await assert.rejects(client.request({ method: 'GET', path: '/denied' }), (e: ApiError) => {
    assert.equal(e.serverMessage, 'denied for Bearer [redacted]');
    assert.ok(!e.message.includes(token));
    return true;
  });
});
