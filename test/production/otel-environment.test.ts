// Issue 14, acceptance 2: with only the standard OTEL_* variables set, the otel plugin sends its
// spans where they say, under the service name and resource attributes they give; every record
// of an intent that failed to parse carries its trace id; the failing step is an error span; a
// CLIENT span per HTTP request follows the HTTP semantic conventions; explicit options win.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { request } from 'undici';
import { runCli } from '../support/cli.ts';
import { dropIntent, fastConfig, makeDataDir, scaling, writeJsonConfig } from '../support/data-dir.ts';
import { waitFor } from '../support/wait.ts';
import { startOtlpReceiver } from '../observability/support/otlp-receiver.ts';
import { resourceAttributes, sampler, tracesEndpoint } from '../../plugins/otel/environment.ts';
import { buildConductor, dataDirectory, dropScalingIntents, filesIn, porchConfig, startSim } from '../porch/support/harness.ts';

const CLIENT = 3;
const ERROR = 2;

/** Runs `fn` with these variables set (and the others of the list removed), then restores them. */
function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const NO_OTEL_ENV = Object.fromEntries(
  Object.keys(process.env)
    .filter((k) => k.startsWith('OTEL_'))
    .map((k) => [k, undefined]),
);

test('only OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES: spans arrive with them; a parse failure carries its trace id', async (t) => {
  const receiver = await startOtlpReceiver();
  const dir = makeDataDir();
  t.after(async () => {
    await receiver.close();
    dir.cleanup();
  });
  dropIntent(dir.handoff, 'intent-good.json', scaling('cu-up', 2));
  dropIntent(dir.handoff, 'intent-unparsable.json', '{"intent_type": "scaling", "target": ');
  const config = fastConfig(dir.root);
  (config['plugins'] as Record<string, unknown>)['otel'] = { scheduledDelayMs: 50 };
  (config['plugins'] as Record<string, unknown>)['audit-log'] = {};
  const path = writeJsonConfig(dir.root, config);

  const result = await runCli(['once', '--config', path], {
    env: {
      ...NO_OTEL_ENV,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_SERVICE_NAME: 'conductor-from-env',
      OTEL_RESOURCE_ATTRIBUTES: 'k8s.pod.name=conductor-7d9f-abcde,deployment.environment=test',
    },
  });
  assert.equal(result.code, 1, result.stderr + result.stdout);

  const status = JSON.parse(readFileSync(join(dir.root, 'status', 'intent-unparsable.status.json'), 'utf8')) as Record<string, string>;
  const error = JSON.parse(readFileSync(join(dir.root, 'failed', 'intent-unparsable.error.json'), 'utf8')) as Record<string, string>;
  assert.equal(status['code'], 'CND_ERR_INTENT_PARSE');
  assert.match(status['traceId'] ?? '', /^[0-9a-f]{32}$/, 'the status file of a parse failure carries a trace id');
  assert.equal(error['traceId'], status['traceId'], 'the error file carries the same trace id');
  const audit = readFileSync(join(dir.root, 'audit', 'audit.log'), 'utf8');
  const line = audit
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((r) => r['file'] === 'intent-unparsable.json' && r['outcome'] !== undefined);
  assert.equal(line?.['traceId'], status['traceId'], 'the audit line carries it too');
  const good = JSON.parse(readFileSync(join(dir.root, 'status', 'intent-good.status.json'), 'utf8')) as Record<string, string>;

  await waitFor(
    'both traces exported',
    () => [status['traceId'], good['traceId']].every((id) => receiver.spans().some((s) => s.traceId === id && s.parentSpanId === '')),
    20_000,
  );
  for (const span of receiver.spans()) {
    assert.equal(span.resource['service.name'], 'conductor-from-env');
    assert.equal(span.resource['k8s.pod.name'], 'conductor-7d9f-abcde');
    assert.equal(span.resource['deployment.environment'], 'test');
  }
  const first = receiver.spans()[0]!;
  t.diagnostic(
    `${receiver.spans().length} spans received; service.name=${String(first.resource['service.name'])}, ` +
      `k8s.pod.name=${String(first.resource['k8s.pod.name'])}; parse failure trace ${status['traceId']} in status, error file and audit line`,
  );
  const failedRoot = receiver.spans().find((s) => s.traceId === status['traceId'] && s.parentSpanId === '')!;
  assert.equal(failedRoot.status.code, ERROR, 'the failed intent is an error span');
  assert.equal(failedRoot.attributes['error.type'], 'CND_ERR_INTENT_PARSE');
});

test("explicit options win over the environment; the spec's path rules for the two endpoint variables", () => {
  withEnv({ ...NO_OTEL_ENV, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/base' }, () => {
    assert.equal(tracesEndpoint(undefined).url, 'http://collector:4318/base/v1/traces', 'v1/traces appended to the generic one');
    assert.equal(tracesEndpoint('http://mine:4318').url, 'http://mine:4318/v1/traces', 'the option wins');
  });
  withEnv(
    {
      ...NO_OTEL_ENV,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:4318/custom',
    },
    () => {
      assert.equal(tracesEndpoint(undefined).url, 'http://traces:4318/custom', 'the signal-specific one is used as is, and wins');
    },
  );
  withEnv(NO_OTEL_ENV, () => assert.equal(tracesEndpoint(undefined).url, 'http://otel-collector:4318/v1/traces'));
  withEnv({ ...NO_OTEL_ENV, OTEL_SERVICE_NAME: 'from-env', OTEL_RESOURCE_ATTRIBUTES: 'a=1,b=2' }, () => {
    const builtIn = { 'service.name': 'conductor' };
    assert.deepEqual(resourceAttributes(builtIn, {}), { 'service.name': 'from-env', a: '1', b: '2' });
    assert.deepEqual(resourceAttributes(builtIn, { serviceName: 'mine', resourceAttributes: { b: 'x' } }), {
      'service.name': 'mine',
      a: '1',
      b: 'x',
    });
  });
  withEnv({ ...NO_OTEL_ENV, OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }, () => {
    assert.equal(sampler(undefined).description, 'traceidratio 0.25');
    assert.equal(sampler(0.5).description, 'parentbased_traceidratio 0.5', 'sampleRatio wins');
  });
  withEnv({ ...NO_OTEL_ENV, OTEL_TRACES_SAMPLER: 'always_off' }, () => assert.equal(sampler(undefined).description, 'always_off'));
  withEnv({ ...NO_OTEL_ENV, OTEL_TRACES_SAMPLER: 'xray' }, () => assert.equal(sampler(undefined).unsupported, 'xray'));
});

test('OTEL_SDK_DISABLED=true: nothing is exported', async (t) => {
  const receiver = await startOtlpReceiver();
  const dir = makeDataDir();
  t.after(async () => {
    await receiver.close();
    dir.cleanup();
  });
  dropIntent(dir.handoff, 'intent-good.json', scaling('cu-up', 2));
  const config = fastConfig(dir.root);
  (config['plugins'] as Record<string, unknown>)['otel'] = { scheduledDelayMs: 50 };
  const result = await runCli(['once', '--config', writeJsonConfig(dir.root, config), '--log-level', 'info'], {
    env: { ...NO_OTEL_ENV, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_SDK_DISABLED: 'true' },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /tracing is off: OTEL_SDK_DISABLED is true/);
  assert.deepEqual(receiver.spans(), []);
});

test(
  'a CLIENT span per HTTP request to Porch, with the HTTP semantic conventions, below the submit span',
  { timeout: 120_000 },
  async (t) => {
    const sim = await startSim({ seed: 9 });
    const receiver = await startOtlpReceiver();
    const dir = dataDirectory();
    t.after(async () => {
      await sim.close();
      await receiver.close();
      dir.cleanup();
    });
    const config = porchConfig(dir.root, { server: sim.url, approve: true });
    (config['plugins'] as Record<string, unknown>)['otel'] = { endpoint: receiver.endpoint, scheduledDelayMs: 50 };
    dropScalingIntents(dir.handoff, 1, 'client-spans');
    const conductor = await buildConductor(config, 'once');
    await conductor.start();
    await conductor.idle();
    await conductor.stop();
    assert.equal(filesIn(dir.root, 'processed').length, 1);
    const status = JSON.parse(
      readFileSync(join(dir.root, 'status', filesIn(dir.root, 'processed')[0]!.replace(/\.json$/, '.status.json')), 'utf8'),
    ) as { traceId: string };
    await waitFor('client spans exported', () => receiver.spans().some((s) => s.traceId === status.traceId && s.kind === CLIENT), 20_000);
    const spans = receiver.spans().filter((s) => s.traceId === status.traceId);
    const clients = spans.filter((s) => s.kind === CLIENT);
    const submitIds = new Set(spans.filter((s) => s.name === 'submit').map((s) => s.spanId));
    assert.ok(clients.length >= 3, `several requests traced (${clients.length})`);
    const port = Number(new URL(sim.url).port);
    for (const span of clients) {
      assert.ok(submitIds.has(span.parentSpanId), `${span.name} ${String(span.attributes['url.full'])} is a child of submit`);
      assert.match(String(span.attributes['http.request.method']), /^(GET|POST|PUT|PATCH|DELETE)$/);
      assert.equal(span.name, span.attributes['http.request.method']);
      assert.ok(String(span.attributes['url.full']).startsWith(`${sim.url}/apis/`), String(span.attributes['url.full']));
      assert.equal(span.attributes['server.address'], '127.0.0.1');
      assert.equal(span.attributes['server.port'], port);
      assert.equal(typeof span.attributes['http.response.status_code'], 'number');
    }
  },
);

test('a request that fails is a CLIENT span with error.type; one with a foreign traceparent is left alone', async (t) => {
  const receiver = await startOtlpReceiver();
  const server = createServer((req, res) => res.writeHead(req.url === '/missing' ? 404 : 200).end('x'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = makeDataDir();
  const config = fastConfig(dir.root);
  (config['plugins'] as Record<string, unknown>)['otel'] = { endpoint: receiver.endpoint, scheduledDelayMs: 50 };
  const conductor = await buildConductor({ ...config, logLevel: 'silent' }, 'run');
  t.after(async () => {
    await receiver.close();
    server.close();
    server.closeAllConnections();
    dir.cleanup();
  });
  await conductor.start();
  await (await request(`${base}/missing`)).body.dump();
  await (await request(`${base}/ok`, { headers: { traceparent: `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01` } })).body.dump();
  await request('http://127.0.0.1:1/refused').catch(() => undefined);
  await conductor.stop();
  await waitFor('client spans exported', () => receiver.spans().filter((s) => s.kind === CLIENT).length >= 2, 20_000);
  const clients = receiver.spans().filter((s) => s.kind === CLIENT);
  const missing = clients.find((s) => String(s.attributes['url.full']).endsWith('/missing'));
  assert.equal(missing?.attributes['http.response.status_code'], 404);
  assert.equal(missing?.attributes['error.type'], '404');
  assert.equal(missing?.status.code, ERROR);
  const refused = clients.find((s) => String(s.attributes['url.full']).endsWith('/refused'));
  assert.equal(refused?.attributes['error.type'], 'ECONNREFUSED');
  assert.equal(refused?.status.code, ERROR);
  assert.equal(
    clients.some((s) => String(s.attributes['url.full']).endsWith('/ok')),
    false,
    'the foreign trace is not ours to record',
  );
});
