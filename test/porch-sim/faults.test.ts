// Fault injection of the Porch simulator (docs/porch.md §Rate limiting, §Simulator endpoints item 12): each fault kind,
// restriction to writes, reproducibility from the seed, and the cost of a 500-intent flow.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { startPorchSim } from '../support/porch-sim/index.ts';
import type { PorchSim, PorchSimOptions } from '../support/porch-sim/index.ts';
import { FIXED_NOW, PORCH, REPO, TOKEN, call, copyBody, draftBody } from '../support/porch-sim/testing.ts';
import type { RawOptions } from '../support/porch-sim/testing.ts';

async function start(t: TestContext, options: PorchSimOptions = {}): Promise<PorchSim> {
  const sim = await startPorchSim({ token: TOKEN, now: () => FIXED_NOW, repositories: [{ name: REPO }], ...options });
  t.after(() => sim.close());
  return sim;
}

function api(sim: PorchSim) {
  return (method: string, path: string, options: RawOptions = {}) => call(sim.url, method, path, { token: TOKEN, ...options });
}

describe('fault injection', () => {
  it('429: text/plain, Retry-After in 1..32, APF headers, no state change', async (t) => {
    const sim = await start(t, { faults: { rate429: 1, retryAfterSeconds: 99 } });
    const res = await api(sim)('POST', `${PORCH}/packagerevisions`, { body: draftBody('ran-nf-sim', 'i-429') });
    assert.equal(res.status, 429);
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(res.headers['retry-after'], '32', 'clamped to the APF range');
    assert.ok(res.headers['x-kubernetes-pf-flowschema-uid']);
    assert.equal(res.json, undefined, 'not a JSON Status');
    assert.equal(sim.writeCount(), 0);
    assert.equal(sim.faults.counts()['rate-limit'], 1);
    assert.equal(sim.requests()[0]?.fault, 'rate-limit');
  });

  it('5xx: the aggregator 503 is plain text; a 500 is an InternalError Status', async (t) => {
    const sim = await start(t, { faults: { error5xxRate: 1 } });
    const http = api(sim);
    const unavailable = await http('GET', `${PORCH}/packagerevisions`);
    assert.equal(unavailable.status, 503);
    assert.equal(unavailable.text, 'service unavailable\n');
    sim.faults.set({ error5xxStatus: 500 });
    const internal = await http('GET', `${PORCH}/packagerevisions`);
    assert.equal(internal.status, 500);
    assert.equal(internal.json.kind, 'Status');
    assert.equal(internal.json.reason, 'InternalError');
    sim.faults.reset();
    assert.equal((await http('GET', `${PORCH}/packagerevisions`)).status, 200);
  });

  it('writesOnly: reads pass, writes fail, and nothing is written', async (t) => {
    const sim = await start(t, { faults: { writesOnly: true, error5xxRate: 1 } });
    const http = api(sim);
    assert.equal((await http('GET', `${PORCH}/packagerevisions`)).status, 200);
    assert.equal((await http('GET', '/apis/porch.kpt.dev/v1alpha1')).status, 200);
    const review = await http('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      body: { spec: { resourceAttributes: { verb: 'create', group: 'porch.kpt.dev', resource: 'packagerevisions' } } },
    });
    assert.equal(review.status, 201, 'an access review is a read');
    assert.equal((await http('POST', `${PORCH}/packagerevisions`, { body: draftBody('ran-nf-sim', 'i-w') })).status, 503);
    assert.equal(sim.writeCount(), 0);
  });

  it('latency: eligible requests are delayed by latencyMs', async (t) => {
    const sim = await start(t, { faults: { latencyMs: 120, writesOnly: true } });
    const http = api(sim);
    const readStart = performance.now();
    await http('GET', `${PORCH}/packagerevisions`);
    const readTime = performance.now() - readStart;
    const writeStart = performance.now();
    const res = await http('POST', `${PORCH}/packagerevisions`, { body: draftBody('ran-nf-sim', 'i-slow') });
    const writeTime = performance.now() - writeStart;
    assert.equal(res.status, 201);
    assert.ok(writeTime >= 115, `write took ${writeTime} ms`);
    assert.ok(readTime < 115, `read took ${readTime} ms`);
  });

  it('drop: the connection is destroyed without an answer and nothing is applied', async (t) => {
    const sim = await start(t);
    sim.faults.next({ kind: 'drop' });
    await assert.rejects(api(sim)('POST', `${PORCH}/packagerevisions`, { body: draftBody('ran-nf-sim', 'i-drop') }));
    assert.equal(sim.writeCount(), 0);
    assert.equal(sim.requests()[0]?.fault, 'drop');
    assert.equal(sim.requests()[0]?.status, 0);
    assert.equal((await api(sim)('POST', `${PORCH}/packagerevisions`, { body: draftBody('ran-nf-sim', 'i-drop') })).status, 201);
  });

  it('apply-then-fail: the write happens, the answer is a 504 or a dropped connection', async (t) => {
    const sim = await start(t);
    const http = api(sim);
    sim.faults.next({ kind: 'apply-then-fail', mode: 'drop' });
    await assert.rejects(http('POST', `${PORCH}/packagerevisions`, { body: draftBody('ran-nf-sim', 'i-lost') }));
    const created = sim.getRevision(`${REPO}.ran-nf-sim.i-lost`);
    assert.ok(created, 'the create was applied');
    assert.deepEqual(
      sim.writes().map((w) => [w.operation, w.responseLost]),
      [['create', true]],
    );
    sim.faults.next({ kind: 'apply-then-fail', mode: 'timeout' });
    const proposed = await http('PUT', `${PORCH}/packagerevisions/${REPO}.ran-nf-sim.i-lost`, {
      body: { ...created, spec: { ...created.spec, lifecycle: 'Proposed' } },
    });
    assert.equal(proposed.status, 504);
    assert.deepEqual(proposed.json, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Timeout: request did not complete within requested timeout - context deadline exceeded',
      reason: 'Timeout',
      details: {},
      code: 504,
    });
    assert.equal(sim.getRevision(`${REPO}.ran-nf-sim.i-lost`)?.spec.lifecycle, 'Proposed');
  });

  it('apply-then-fail leaves failed writes alone (only a successful write can lose its answer)', async (t) => {
    const sim = await start(t, { faults: { applyThenFailRate: 1 } });
    const bad = await api(sim)('POST', `${PORCH}/packagerevisions`, { body: draftBody('ran-nf-sim', '') });
    assert.equal(bad.status, 422);
    assert.equal(sim.faults.counts()['apply-then-fail'], 0);
  });

  it('scripted faults can target one path and a number of requests', async (t) => {
    const sim = await start(t);
    const http = api(sim);
    sim.faults.next({ kind: 'server-error', status: 503 }, { count: 2, match: (r) => r.path.endsWith('/approval') });
    const created = (await http('POST', `${PORCH}/packagerevisions`, { body: draftBody('ran-nf-sim', 'i-s') })).json;
    const proposed = (
      await http('PUT', `${PORCH}/packagerevisions/${created.metadata.name}`, {
        body: { ...created, spec: { ...created.spec, lifecycle: 'Proposed' } },
      })
    ).json;
    const approve = () =>
      http('PUT', `${PORCH}/packagerevisions/${created.metadata.name}/approval`, {
        body: { ...proposed, spec: { ...proposed.spec, lifecycle: 'Published' } },
      });
    assert.equal((await approve()).status, 503);
    assert.equal((await approve()).status, 503);
    assert.equal((await approve()).status, 200);
  });

  it('random faults are reproducible from the seed', async (t) => {
    const statuses = async (seed: number) => {
      const sim = await start(t, { seed, faults: { rate429: 0.2, error5xxRate: 0.2 } });
      const out: number[] = [];
      for (let i = 0; i < 40; i++) out.push((await api(sim)('GET', `${PORCH}/packagerevisions`)).status);
      return out;
    };
    const a = await statuses(7);
    const b = await statuses(7);
    const c = await statuses(8);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.ok(a.includes(429) && a.includes(503) && a.includes(200), `a mix of outcomes: ${a.join(',')}`);
    const failures = a.filter((s) => s !== 200).length;
    assert.ok(failures > 6 && failures < 28, `about 36% of 40 fail, got ${failures}`);
  });
});

describe('simulator speed', () => {
  it('runs the create → resources → propose → approve flow for 500 intents within a few seconds', async (t) => {
    const sim = await start(t);
    const http = api(sim);
    const latest = new Map<string, string>();
    const began = performance.now();
    const cpuBefore = process.cpuUsage();
    for (let i = 0; i < 500; i++) {
      const ws = `i-${i.toString(16).padStart(10, '0')}`;
      const pkg = `pkg-${i % 50}`;
      const source = latest.get(pkg);
      // The first revision of a package is an init; later ones copy the latest published one.
      const body = source === undefined ? draftBody(pkg, ws) : copyBody(pkg, ws, source);
      const pr = (await http('POST', `${PORCH}/packagerevisions`, { body })).json;
      assert.ok(pr.metadata, `create ${i}`);
      latest.set(pkg, pr.metadata.name);
      const prr = (await http('GET', `${PORCH}/packagerevisionresources/${pr.metadata.name}`)).json;
      prr.spec.resources['intent.yaml'] =
        `apiVersion: nephoran.io/v1alpha1\nkind: ScalingIntent\nmetadata:\n  name: i${i}\nspec:\n  replicas: ${i % 9}\n`;
      await http('PUT', `${PORCH}/packagerevisionresources/${pr.metadata.name}`, { body: prr });
      const fresh = (await http('GET', `${PORCH}/packagerevisions/${pr.metadata.name}`)).json;
      const proposed = (
        await http('PUT', `${PORCH}/packagerevisions/${pr.metadata.name}`, {
          body: { ...fresh, spec: { ...fresh.spec, lifecycle: 'Proposed' } },
        })
      ).json;
      const approved = await http('PUT', `${PORCH}/packagerevisions/${pr.metadata.name}/approval`, {
        body: { ...proposed, spec: { ...proposed.spec, lifecycle: 'Published' } },
      });
      assert.equal(approved.status, 200, approved.text);
      await http('GET', `${PORCH}/packagerevisions?fieldSelector=${encodeURIComponent(`spec.workspaceName=${ws}`)}`);
    }
    const elapsed = performance.now() - began;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    assert.equal(sim.listRevisions({ lifecycle: 'Published' }).length, 500);
    // pkg-7 got intents 7, 57, …, 457: the last one is its tenth revision.
    assert.equal(sim.getRevision(`${REPO}.pkg-7.i-${(457).toString(16).padStart(10, '0')}`)?.spec.revision, 10);
    // CPU time (client and simulator share this process) is what the simulator costs; wall time
    // also counts other processes on a busy machine, so it only gets a loose bound.
    t.diagnostic(`500 intents: ${Math.round(cpuMs)} ms CPU, ${Math.round(elapsed)} ms wall`);
    assert.ok(cpuMs < 8_000, `500 intents used ${Math.round(cpuMs)} ms of CPU`);
    assert.ok(elapsed < 60_000, `500 intents took ${Math.round(elapsed)} ms`);
  });
});
