// Issue 14, "Kubernetes credentials as kubectl has them": a kubeconfig whose user is an exec
// credential plugin (client.authentication.k8s.io/v1) drives full submissions against the Porch
// simulator. The fake plugin is a small Node script that prints an ExecCredential with the token
// the test puts in a file and a short expirationTimestamp, and records each run: the sink runs it
// again once the token expired (the simulator then accepts only the second token, and no request
// was refused on the way), and at once after a 401. auth-provider users are refused by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import YAML from 'yaml';
import { CircuitBreaker } from '../../core/index.ts';
import { resolveConnection } from '../../plugins/porch-sink/auth.ts';
import { KubeClient } from '../../plugins/porch-sink/client.ts';
import { DEFAULT_OPTIONS } from '../../plugins/porch-sink/options.ts';
import { tempDir } from '../support/data-dir.ts';
import { waitFor } from '../support/wait.ts';
import {
  assertDeliveredExactlyOnce,
  buildConductor,
  dataDirectory,
  dropScalingIntents,
  failedReasons,
  filesIn,
  porchConfig,
  removeAll,
  startSim,
} from './support/harness.ts';
import { makePki, type TestPki } from './support/tls.ts';

const PLUGIN = `
import { appendFileSync, readFileSync } from 'node:fs';
const dir = process.env.FAKE_PLUGIN_DIR;
const token = readFileSync(dir + '/token', 'utf8').trim();
const ttlMs = Number(readFileSync(dir + '/ttl-ms', 'utf8'));
const expirationTimestamp = new Date(Date.now() + ttlMs).toISOString();
appendFileSync(dir + '/runs', JSON.stringify({ token, expirationTimestamp, info: JSON.parse(process.env.KUBERNETES_EXEC_INFO) }) + '\\n');
process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token, expirationTimestamp } }));
`;

interface Run {
  token: string;
  expirationTimestamp: string;
  info: { apiVersion: string; kind: string; spec: { interactive: boolean; cluster?: { server: string } } };
}

/** A kubeconfig for `server` whose user runs the fake plugin; the plugin's files live in `dir`. */
function execKubeconfig(
  dir: string,
  server: string,
  token: string,
  ttlMs: number,
): { path: string; runs(): Run[]; setToken(token: string): void } {
  writeFileSync(join(dir, 'fake-exec-plugin.mjs'), PLUGIN);
  writeFileSync(join(dir, 'token'), token);
  writeFileSync(join(dir, 'ttl-ms'), String(ttlMs));
  writeFileSync(join(dir, 'runs'), '');
  const path = join(dir, 'kubeconfig');
  writeFileSync(
    path,
    YAML.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'sim',
      clusters: [{ name: 'sim-cluster', cluster: { server } }],
      users: [
        {
          name: 'exec-user',
          user: {
            exec: {
              apiVersion: 'client.authentication.k8s.io/v1',
              command: process.execPath,
              args: ['fake-exec-plugin.mjs'].map((name) => join(dir, name)),
              env: [{ name: 'FAKE_PLUGIN_DIR', value: dir }],
              provideClusterInfo: true,
              interactiveMode: 'Never',
            },
          },
        },
      ],
      contexts: [{ name: 'sim', context: { cluster: 'sim-cluster', user: 'exec-user' } }],
    }),
  );
  return {
    path,
    runs: () =>
      readFileSync(join(dir, 'runs'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Run),
    setToken: (next) => writeFileSync(join(dir, 'token'), next),
  };
}

test('an exec credential plugin drives submissions; its token is replaced after it expires, before the server refuses it', async (t) => {
  const sim = await startSim({ token: 'exec-token-one' });
  const dir = dataDirectory();
  const kube = execKubeconfig(dir.root, sim.url, 'exec-token-one', 3_000);
  const conductor = await buildConductor(porchConfig(dir.root, { kubeconfig: kube.path, approve: true }), 'run');
  t.after(async () => {
    await conductor.stop();
    await sim.close();
    dir.cleanup();
  });
  await conductor.start();
  const first = dropScalingIntents(dir.handoff, 3, 'first');
  await waitFor('the first intents delivered', () => filesIn(dir.root, 'processed').length === 3, 30_000);
  const runsBefore = kube.runs();
  assert.ok(runsBefore.length >= 1, 'the plugin ran');
  assert.equal(runsBefore[0]!.token, 'exec-token-one');
  const info = runsBefore[0]!.info;
  assert.equal(info.apiVersion, 'client.authentication.k8s.io/v1');
  assert.equal(info.kind, 'ExecCredential');
  assert.equal(info.spec.interactive, false);
  assert.equal(info.spec.cluster?.server, sim.url, 'provideClusterInfo passes the cluster');

  // The token expires; the API server then accepts only its successor.
  const expiry = Date.parse(runsBefore.at(-1)!.expirationTimestamp);
  await waitFor('the first token to expire', () => Date.now() > expiry, 30_000, 50);
  kube.setToken('exec-token-two');
  sim.setToken('exec-token-two');
  const requestsBefore = sim.requests().length;
  const second = dropScalingIntents(dir.handoff, 3, 'second');
  await waitFor('the second intents delivered', () => filesIn(dir.root, 'processed').length === 6, 30_000);

  assert.deepEqual(failedReasons(dir.root), []);
  assertDeliveredExactlyOnce(sim, [...first, ...second], 'Published');
  const later = sim.requests().slice(requestsBefore);
  assert.ok(later.length > 0 && later.every((r) => r.status !== 401), 'the expired token was replaced before use: no 401');
  assert.ok(
    later.some((r) => r.status >= 200 && r.status < 300),
    'the simulator accepted the second token',
  );
  assert.equal(kube.runs().at(-1)!.token, 'exec-token-two', 'the plugin ran again after the expiry');
});

test('an exec token the server stops accepting before its expiry: the plugin runs again at the 401', async (t) => {
  const sim = await startSim({ token: 'exec-a' });
  const dir = dataDirectory();
  const kube = execKubeconfig(dir.root, sim.url, 'exec-a', 3_600_000);
  const conductor = await buildConductor(porchConfig(dir.root, { kubeconfig: kube.path, approve: true }), 'run');
  t.after(async () => {
    await conductor.stop();
    await sim.close();
    dir.cleanup();
  });
  await conductor.start();
  const first = dropScalingIntents(dir.handoff, 2, 'first');
  await waitFor('the first intents delivered', () => filesIn(dir.root, 'processed').length === 2, 30_000);
  kube.setToken('exec-b');
  sim.setToken('exec-b');
  const second = dropScalingIntents(dir.handoff, 2, 'second');
  await waitFor('the second intents delivered', () => filesIn(dir.root, 'processed').length === 4, 30_000);
  assertDeliveredExactlyOnce(sim, [...first, ...second], 'Published');
  assert.ok(
    sim.requests().some((r) => r.status === 401),
    'the old token was refused once',
  );
  assert.equal(kube.runs().length, 2, 'one run at the start, one at the 401: the cached token was used in between');
});

test('an auth-provider user is refused by name, with exec suggested', async (t) => {
  const dir = dataDirectory();
  t.after(() => dir.cleanup());
  const kubeconfig = join(dir.root, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    YAML.stringify({
      'current-context': 'c',
      clusters: [{ name: 'k', cluster: { server: 'https://127.0.0.1:1' } }],
      users: [{ name: 'gke-user', user: { 'auth-provider': { name: 'gcp', config: { 'access-token': 'x' } } } }],
      contexts: [{ name: 'c', context: { cluster: 'k', user: 'gke-user' } }],
    }),
  );
  const conductor = await buildConductor(porchConfig(dir.root, { kubeconfig }));
  await assert.rejects(
    conductor.start(),
    /user "gke-user" authenticates through the auth-provider plugin "gcp".*use an exec credential plugin/,
  );
});

const CERT_PLUGIN = `
import { appendFileSync, readFileSync } from 'node:fs';
const dir = process.env.FAKE_PLUGIN_DIR;
const read = (name) => readFileSync(dir + '/' + name, 'utf8');
const expirationTimestamp = new Date(Date.now() + Number(read('ttl-ms'))).toISOString();
appendFileSync(dir + '/runs', expirationTimestamp + '\\n');
const status = { clientCertificateData: read('client.crt'), clientKeyData: read('client.key'), expirationTimestamp };
process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status }));
`;

test(
  'an exec plugin that hands out client certificates: presented at the TLS handshake, and replaced after expiry',
  { timeout: 60_000 },
  async (t) => {
    const root = tempDir('conductor-exec-cert-');
    const [pkiA, pkiB] = ['a', 'b'].map((name) => {
      mkdirSync(join(root, name));
      return makePki(join(root, name));
    }) as [TestPki, TestPki];
    const server = createHttpsServer(
      {
        key: pkiA.serverKey,
        cert: pkiA.serverCert,
        ca: [readFileSync(pkiA.caFile, 'utf8'), readFileSync(pkiB.caFile, 'utf8')],
        requestCert: true,
        rejectUnauthorized: true,
      },
      (request, response) => {
        const peer = (request.socket as TLSSocket).getPeerCertificate();
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ fingerprint: peer.fingerprint256 }));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const plugin = join(root, 'plugin');
    mkdirSync(plugin);
    writeFileSync(join(plugin, 'cert-plugin.mjs'), CERT_PLUGIN);
    writeFileSync(join(plugin, 'ttl-ms'), '2000');
    writeFileSync(join(plugin, 'runs'), '');
    const useClient = (pki: TestPki) => {
      copyFileSync(pki.clientCertFile, join(plugin, 'client.crt'));
      copyFileSync(pki.clientKeyFile, join(plugin, 'client.key'));
    };
    useClient(pkiA);
    const kubeconfig = join(root, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      YAML.stringify({
        'current-context': 'c',
        clusters: [
          {
            name: 'k',
            cluster: { server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, 'certificate-authority': pkiA.caFile },
          },
        ],
        users: [
          {
            name: 'u',
            user: {
              exec: {
                apiVersion: 'client.authentication.k8s.io/v1',
                command: process.execPath,
                args: [join(plugin, 'cert-plugin.mjs')],
                env: [{ name: 'FAKE_PLUGIN_DIR', value: plugin }],
              },
            },
          },
        ],
        contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
      }),
    );
    const client = new KubeClient({
      connection: resolveConnection({ ...DEFAULT_OPTIONS, kubeconfig }),
      timeoutMs: 5_000,
      concurrency: 2,
      breaker: new CircuitBreaker({ name: 'test', failureThreshold: 100 }),
    });
    t.after(async () => {
      await client.close();
      await new Promise((resolve) => server.close(resolve));
      removeAll(root);
    });
    const fingerprint = (pki: TestPki) => new X509Certificate(readFileSync(pki.clientCertFile)).fingerprint256;
    const who = () => client.request<{ fingerprint: string }>({ method: 'GET', path: '/who' });

    assert.equal((await who()).fingerprint, fingerprint(pkiA), 'the exec plugin\u2019s certificate was presented');
    assert.equal((await who()).fingerprint, fingerprint(pkiA));
    const runs = () => readFileSync(join(plugin, 'runs'), 'utf8').split('\n').filter(Boolean);
    assert.equal(runs().length, 1, 'cached while valid');
    useClient(pkiB);
    const expiry = Date.parse(runs()[0]!);
    await waitFor('the first certificate to expire', () => Date.now() > expiry, 30_000, 50);
    assert.equal((await who()).fingerprint, fingerprint(pkiB), 'after the expiry, the new certificate on new connections');
    assert.equal(runs().length, 2);
  },
);
