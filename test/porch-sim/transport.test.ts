// Transport of the Porch simulator: HTTPS with a test certificate, Bearer tokens (401 Status,
// rotation), traceparent recording and the request body limit (docs/porch.md §Transport, §Simulator endpoints item 13).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { Agent } from 'undici';
import { startPorchSim } from '../support/porch-sim/index.ts';
import type { PorchSim, PorchSimOptions } from '../support/porch-sim/index.ts';
import { PORCH, REPO, TOKEN, call, draftBody } from '../support/porch-sim/testing.ts';

async function start(t: TestContext, options: PorchSimOptions = {}): Promise<PorchSim> {
  const sim = await startPorchSim({ token: TOKEN, repositories: [{ name: REPO }], ...options });
  t.after(() => sim.close());
  return sim;
}

/** A throw-away self-signed certificate for 127.0.0.1, made with the openssl CLI. */
function selfSignedCertificate(t: TestContext): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'porch-sim-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-days',
      '1',
      '-subj',
      '/CN=porch-sim',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8') };
}

describe('TLS', () => {
  it('serves HTTPS that verifies against the test CA and is refused without it', async (t) => {
    const tls = selfSignedCertificate(t);
    const sim = await start(t, { tls });
    assert.match(sim.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const trusting = new Agent({ connect: { ca: tls.cert } });
    t.after(() => trusting.close());
    const res = await call(sim.url, 'GET', `${PORCH}/packagerevisions`, { token: TOKEN, dispatcher: trusting });
    assert.equal(res.status, 200);
    const created = await call(sim.url, 'POST', `${PORCH}/packagerevisions`, {
      token: TOKEN,
      dispatcher: trusting,
      body: draftBody('ran-nf-sim', 'i-tls'),
    });
    assert.equal(created.status, 201);
    const untrusting = new Agent();
    t.after(() => untrusting.close());
    await assert.rejects(call(sim.url, 'GET', `${PORCH}/packagerevisions`, { token: TOKEN, dispatcher: untrusting }), /certificate/i);
  });
});

describe('Bearer token', () => {
  it('answers 401 Unauthorized Status for a wrong or missing token', async (t) => {
    const sim = await start(t);
    const wrong = await call(sim.url, 'GET', `${PORCH}/packagerevisions`, { token: 'nope' });
    assert.equal(wrong.status, 401);
    assert.deepEqual(wrong.json, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    });
    const missing = await call(sim.url, 'GET', `${PORCH}/packagerevisions`);
    assert.equal(missing.status, 401);
    assert.equal((await call(sim.url, 'GET', '/version', { token: 'nope' })).status, 401, 'a bad token fails even on public paths');
    assert.equal((await call(sim.url, 'GET', '/healthz')).text, 'ok');
  });

  it('follows a token rotation and can turn authentication off', async (t) => {
    const sim = await start(t);
    assert.equal((await call(sim.url, 'GET', `${PORCH}/packagerevisions`, { token: TOKEN })).status, 200);
    sim.setToken('rotated-token');
    assert.equal((await call(sim.url, 'GET', `${PORCH}/packagerevisions`, { token: TOKEN })).status, 401);
    assert.equal((await call(sim.url, 'GET', `${PORCH}/packagerevisions`, { token: 'rotated-token' })).status, 200);
    sim.setToken(undefined);
    assert.equal((await call(sim.url, 'GET', `${PORCH}/packagerevisions`)).status, 200);
    sim.requireToken('third-token');
    assert.equal((await call(sim.url, 'GET', `${PORCH}/packagerevisions`)).status, 401);
    assert.equal((await call(sim.url, 'GET', `${PORCH}/packagerevisions`, { token: 'third-token' })).status, 200);
  });
});

describe('request recording and limits', () => {
  it('keeps the traceparent of each request when asked to', async (t) => {
    const sim = await start(t, { recordTraceparent: true });
    const ids = ['4bf92f3577b34da6a3ce929d0e0e4736', '0af7651916cd43dd8448eb211c80319c'];
    for (const id of ids) {
      await call(sim.url, 'GET', `${PORCH}/packagerevisions`, { token: TOKEN, headers: { traceparent: `00-${id}-00f067aa0ba902b7-01` } });
    }
    await call(sim.url, 'GET', `${PORCH}/packagerevisions`, { token: TOKEN });
    assert.deepEqual(
      sim.traceparents().map((tp) => tp.split('-')[1]),
      ids,
    );
    assert.equal(sim.requests().length, 3);
    const quiet = await start(t);
    await call(quiet.url, 'GET', `${PORCH}/packagerevisions`, {
      token: TOKEN,
      headers: { traceparent: `00-${ids[0]}-00f067aa0ba902b7-01` },
    });
    assert.deepEqual(quiet.traceparents(), []);
  });

  it('refuses bodies over the limit with 413', async (t) => {
    const sim = await start(t, { maxBodyBytes: 1024 });
    const body = draftBody('ran-nf-sim', 'i-big');
    body.metadata.annotations = { big: 'x'.repeat(2048) };
    const res = await call(sim.url, 'POST', `${PORCH}/packagerevisions`, { token: TOKEN, body });
    assert.equal(res.status, 413);
    assert.equal(res.json.reason, 'RequestEntityTooLarge');
  });

  it('refuses an unknown body media type with 415', async (t) => {
    const sim = await start(t);
    const res = await call(sim.url, 'POST', `${PORCH}/packagerevisions`, { token: TOKEN, body: 'a=b', contentType: 'text/plain' });
    assert.equal(res.status, 415);
    assert.equal(res.json.reason, 'UnsupportedMediaType');
  });
});
