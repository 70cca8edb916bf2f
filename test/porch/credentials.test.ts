// Issue 3, acceptance 4, and the TLS and credential paths: the in-cluster service account over
// TLS with its token rotated while intents flow; a wrong CA (a clear certificate error, readiness
// false, intents kept in handoff/); insecureSkipTLSVerify (works, warned about); a kubeconfig
// with inline CA data, a token and a client certificate; refused credentials; and start-up
// errors that name what is missing. Certificates are made at test time with openssl.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { dropIntent, scaling, tempDir } from '../support/data-dir.ts';
import { waitFor } from '../support/wait.ts';
import {
  assertDeliveredExactlyOnce,
  buildConductor,
  capturingLogger,
  dropScalingIntents,
  failedReasons,
  filesIn,
  porchConfig,
  removeAll,
  runOnce,
  startSim,
  dataDirectory,
} from './support/harness.ts';
import { makePki, type TestPki } from './support/tls.ts';

const pkiDir = tempDir('conductor-pki-');
const pki: TestPki = makePki(pkiDir);
test.after(() => removeAll(pkiDir));

/** Quick to give up: these tests look at what happens when the sink cannot get through. */
const SHORT_RETRY = { retry: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 5, budgetMs: 2_000 } };

function writeAtomically(path: string, content: string): void {
  writeFileSync(`${path}.new`, content);
  renameSync(`${path}.new`, path);
}

test('in-cluster service account over TLS: the token is rotated while intents flow, and none fails', async (t) => {
  const sim = await startSim({ tls: { key: pki.serverKey, cert: pki.serverCert }, token: 'token-one' });
  const dir = dataDirectory();
  const serviceAccount = join(dir.root, 'serviceaccount');
  mkdirSync(serviceAccount);
  writeFileSync(join(serviceAccount, 'token'), 'token-one\n');
  copyFileSync(pki.caFile, join(serviceAccount, 'ca.crt'));
  const saved = { host: process.env['KUBERNETES_SERVICE_HOST'], port: process.env['KUBERNETES_SERVICE_PORT'] };
  process.env['KUBERNETES_SERVICE_HOST'] = '127.0.0.1';
  process.env['KUBERNETES_SERVICE_PORT'] = String(sim.port);
  const conductor = await buildConductor(porchConfig(dir.root, { approve: true, serviceAccountDir: serviceAccount }), 'run');
  t.after(async () => {
    await conductor.stop();
    await sim.close();
    dir.cleanup();
    for (const [key, value] of [
      ['KUBERNETES_SERVICE_HOST', saved.host],
      ['KUBERNETES_SERVICE_PORT', saved.port],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });
  const first = dropScalingIntents(dir.handoff, 60, 'before');
  await conductor.start();
  await waitFor('some intents under way', () => sim.writeCount() >= 60, 30_000);

  // Kubelet swaps the projected token atomically; the API server stops accepting the old one.
  writeAtomically(join(serviceAccount, 'token'), 'token-two\n');
  sim.setToken('token-two');
  const second = dropScalingIntents(dir.handoff, 20, 'after');

  await waitFor('all 80 intents settled', () => filesIn(dir.root, 'processed').length + filesIn(dir.root, 'failed').length === 80, 60_000);
  assert.deepEqual(failedReasons(dir.root), [], 'no intent failed');
  assert.ok(
    sim.requests().some((r) => r.status === 401),
    'the old token was refused at least once, and the sink recovered',
  );
  assertDeliveredExactlyOnce(sim, [...first, ...second], 'Published');
  const readiness = conductor.readiness();
  assert.equal(readiness.ready, true, JSON.stringify(readiness.plugins));
  assert.equal(readiness.plugins['porch-sink']?.details?.['circuit'], 'closed');
});

test('a wrong CA: a clear certificate error, the sink reports it (the pod stays ready), intents stay in handoff/', async (t) => {
  const sim = await startSim({ tls: { key: pki.serverKey, cert: pki.serverCert } });
  const dir = dataDirectory();
  t.after(async () => {
    await sim.close();
    dir.cleanup();
  });
  dropScalingIntents(dir.handoff, 3);
  const { log, records } = capturingLogger();
  const conductor = await buildConductor(
    porchConfig(dir.root, { server: sim.url, caFile: pki.wrongCaFile, approve: true }, SHORT_RETRY),
    'once',
    log,
  );
  await conductor.start();
  await conductor.idle();
  const readiness = conductor.readiness();
  await conductor.stop();

  const status = readiness.plugins['porch-sink'];
  // The sink reports the failure; the pod stays ready (issue 14: readiness is about the pod).
  assert.equal(readiness.ready, true);
  assert.equal(status?.ready, false);
  assert.match(status?.message ?? '', /TLS certificate of https:\/\/127\.0\.0\.1:\d+ not accepted \(\w+/);
  assert.match(status?.message ?? '', /check the CA/);
  assert.ok(['closed', 'open', 'half-open'].includes(String(status?.details?.['circuit'])));
  assert.deepEqual(filesIn(dir.root, 'handoff').length, 3, 'all three intents wait in handoff/');
  assert.deepEqual(filesIn(dir.root, 'failed'), [], 'nothing failed');
  assert.deepEqual(filesIn(dir.root, 'processed'), []);
  assert.equal(sim.requests().length, 0, 'no request got past the TLS handshake');
  const deferred = records().filter((r) => r.msg.startsWith('intent left in handoff for later'));
  assert.equal(deferred.length, 3);
  assert.match(deferred[0]!.msg, /certificate/);
});

test('insecureSkipTLSVerify works without a CA and is warned about', async (t) => {
  const sim = await startSim({ tls: { key: pki.serverKey, cert: pki.serverCert } });
  const dir = dataDirectory();
  t.after(async () => {
    await sim.close();
    dir.cleanup();
  });
  const dropped = dropScalingIntents(dir.handoff, 2);
  const { log, records } = capturingLogger();
  await runOnce(porchConfig(dir.root, { server: sim.url, insecureSkipTLSVerify: true, approve: true }), log);
  assertDeliveredExactlyOnce(sim, dropped, 'Published');
  const warning = records().find((r) => r.level === 40 && /insecureSkipTLSVerify/.test(r.msg));
  assert.ok(warning, 'a warning says the certificate is not verified');
  assert.match(warning.msg, /development only/);
});

test('kubeconfig: server, inline CA data, token and a client certificate from the current context', async (t) => {
  const sim = await startSim({ tls: { key: pki.serverKey, cert: pki.serverCert }, token: 'kube-token' });
  const dir = dataDirectory();
  t.after(async () => {
    await sim.close();
    dir.cleanup();
  });
  // Relative paths in a kubeconfig are relative to the kubeconfig's directory (as kubectl reads them).
  copyFileSync(pki.clientCertFile, join(dir.root, 'client.crt'));
  copyFileSync(pki.clientKeyFile, join(dir.root, 'client.key'));
  const kubeconfig = join(dir.root, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    YAML.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'sim',
      clusters: [
        { name: 'sim-cluster', cluster: { server: sim.url, 'certificate-authority-data': readFileSync(pki.caFile).toString('base64') } },
      ],
      users: [{ name: 'conductor', user: { token: 'kube-token', 'client-certificate': 'client.crt', 'client-key': 'client.key' } }],
      contexts: [
        { name: 'other', context: { cluster: 'missing', user: 'conductor' } },
        { name: 'sim', context: { cluster: 'sim-cluster', user: 'conductor', namespace: 'ignored' } },
      ],
    }),
  );
  const dropped = dropScalingIntents(dir.handoff, 2);
  await runOnce(porchConfig(dir.root, { kubeconfig, approve: true }));
  assertDeliveredExactlyOnce(sim, dropped, 'Published');
});

test('credentials the server refuses: 401 keeps intents in handoff/ and readiness says why', async (t) => {
  const sim = await startSim({ token: 'the-right-one' });
  const dir = dataDirectory();
  t.after(async () => {
    await sim.close();
    dir.cleanup();
  });
  const tokenFile = join(dir.root, 'token');
  writeFileSync(tokenFile, 'a-wrong-one\n');
  dropIntent(dir.handoff, 'intent-refused.json', scaling('refused', 3));
  const conductor = await buildConductor(porchConfig(dir.root, { server: sim.url, tokenFile }, SHORT_RETRY));
  await conductor.start();
  await conductor.idle();
  const status = conductor.readiness().plugins['porch-sink'];
  await conductor.stop();
  assert.equal(status?.ready, false);
  assert.match(status?.message ?? '', /rejected the credentials \(401 Unauthorized\) from the token file .*token/);
  assert.deepEqual(filesIn(dir.root, 'handoff'), ['intent-refused.json']);
  assert.deepEqual(filesIn(dir.root, 'failed'), []);
});

test('start fails with a clear message when there is nothing to connect to', async (t) => {
  const dir = dataDirectory();
  t.after(() => dir.cleanup());
  const saved = process.env['KUBERNETES_SERVICE_HOST'];
  delete process.env['KUBERNETES_SERVICE_HOST'];
  t.after(() => {
    if (saved !== undefined) process.env['KUBERNETES_SERVICE_HOST'] = saved;
  });
  const outside = await buildConductor(porchConfig(dir.root, {}));
  await assert.rejects(
    outside.start(),
    /no server configured: set "server" or "kubeconfig", or run in a cluster \(KUBERNETES_SERVICE_HOST\/PORT are not set\)/,
  );

  const kubeconfig = join(dir.root, 'exec-kubeconfig');
  writeFileSync(
    kubeconfig,
    YAML.stringify({
      'current-context': 'c',
      clusters: [{ name: 'k', cluster: { server: 'https://127.0.0.1:1' } }],
      users: [{ name: 'u', user: { 'auth-provider': { name: 'gcp' } } }],
      contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
    }),
  );
  const exec = await buildConductor(porchConfig(dir.root, { kubeconfig }));
  await assert.rejects(exec.start(), /user "u" authenticates through the auth-provider plugin "gcp"/);

  const missingCa = await buildConductor(porchConfig(dir.root, { server: 'https://127.0.0.1:1', caFile: join(dir.root, 'absent.crt') }));
  await assert.rejects(missingCa.start(), /cannot read the CA certificate .*absent\.crt/);
});
