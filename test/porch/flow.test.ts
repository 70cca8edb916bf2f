// The flow's individual promises, each provoked exactly (scripted faults, seeded states, held
// writes) rather than by chance: every step resumes from what an earlier attempt left; lost
// replies are re-read, not repeated; a stale resourceVersion (Porch's 500) and the in-flight
// lock (409) are retried; 429 waits as told; the traceparent travels on every request; the
// circuit opens on a failing server and readiness shows it; and requests that cannot succeed
// end in failed/ with the server's own words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import YAML from 'yaml';
import { INTENT_ID_ANNOTATION, definePlugin, type Intent, type RetryEvent } from '../../core/index.ts';
import { intentIdOf } from '../../core/intent/identity.ts';
import { renderKptfile, renderDeployment } from '../../core/intent/krm.ts';
import { dropIntent, scaling } from '../support/data-dir.ts';
import { waitFor } from '../support/wait.ts';
import type { PorchSim } from '../support/porch-sim/index.ts';
import {
  NAMESPACE,
  REPOSITORY,
  assertDeliveredExactlyOnce,
  buildConductor,
  capturingLogger,
  dropScalingIntents,
  failedReasons,
  filesIn,
  porchConfig,
  replicasIn,
  runOnce,
  startSim,
  dataDirectory,
  type TestDataDir,
} from './support/harness.ts';

const QUICK_RETRY = { retry: { maxAttempts: 0, initialDelayMs: 1, maxDelayMs: 20, budgetMs: 30_000 } };
const GIVE_UP_RETRY = { retry: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 5, budgetMs: 2_000 } };

async function setUp(t: { after(fn: () => Promise<void> | void): void }, sim: PorchSim): Promise<TestDataDir> {
  const dir = dataDirectory();
  t.after(async () => {
    await sim.close();
    dir.cleanup();
  });
  return dir;
}

function oneIntent(
  dir: TestDataDir,
  target = 'nf-a',
  replicas = 3,
  extra: Partial<Intent> = {},
): { file: string; intent: Intent; intentId: string } {
  const file = `intent-${target}.json`;
  const intent = scaling(target, replicas, extra);
  dropIntent(dir.handoff, file, intent);
  return { file, intent, intentId: intentIdOf(file, intent as unknown as Record<string, unknown>) };
}

type Request = { method: string; path: string };
const isRevisionWrite = (method: string) => (r: Request) => r.method === method && r.path.includes('/packagerevisions');

test('a lost reply at every step (504 after applying, then a dropped connection) is re-read, never repeated', async (t) => {
  for (const mode of ['timeout', 'drop'] as const) {
    const sim = await startSim();
    const dir = await setUp(t, sim);
    const { intent, intentId } = oneIntent(dir);
    const isCreate = isRevisionWrite('POST');
    const isResources = (r: Request) => r.method === 'PUT' && r.path.includes('/packagerevisionresources/');
    const isPropose = (r: Request) => r.method === 'PUT' && /\/packagerevisions\/[^/]+$/.test(r.path);
    const isApproval = (r: Request) => r.method === 'PUT' && r.path.endsWith('/approval');
    for (const match of [isCreate, isResources, isPropose, isApproval]) sim.faults.next({ kind: 'apply-then-fail', mode }, { match });
    await runOnce(porchConfig(dir.root, { server: sim.url, approve: true }, QUICK_RETRY));
    assert.deepEqual(failedReasons(dir.root), []);
    assert.equal(sim.faults.counts()['apply-then-fail'], 4, `${mode}: all four replies were lost`);
    assert.equal(sim.writeCount(), 4, `${mode}: each write applied exactly once`);
    assertDeliveredExactlyOnce(sim, [{ file: '', intent, intentId }], 'Published');
  }
});

test('resumes from whatever an interrupted attempt left: a Draft, a Draft with resources, a Proposed, a Published revision', async (t) => {
  const intent = scaling('nf-r', 6);
  const file = 'intent-nf-r.json';
  const intentId = intentIdOf(file, intent as unknown as Record<string, unknown>);
  const kptfile = renderKptfile('nf-r', intent);
  const cases = [
    { lifecycle: 'Draft', resources: { Kptfile: kptfile }, expectedWrites: ['update-resources', 'update', 'approval'] },
    {
      lifecycle: 'Draft',
      resources: { Kptfile: kptfile, 'deployment.yaml': renderDeployment(intent) },
      expectedWrites: ['update', 'approval'],
    },
    { lifecycle: 'Proposed', resources: { Kptfile: kptfile, 'deployment.yaml': renderDeployment(intent) }, expectedWrites: ['approval'] },
    { lifecycle: 'Published', resources: { Kptfile: kptfile, 'deployment.yaml': renderDeployment(intent) }, expectedWrites: [] },
  ] as const;
  for (const { lifecycle, resources, expectedWrites } of cases) {
    const sim = await startSim({
      packages: [
        {
          repository: REPOSITORY,
          namespace: NAMESPACE,
          packageName: 'nf-r',
          workspaceName: `intent-${intentId}`,
          lifecycle,
          resources,
          annotations: { [INTENT_ID_ANNOTATION]: intentId },
        },
      ],
    });
    const dir = await setUp(t, sim);
    dropIntent(dir.handoff, file, intent);
    await runOnce(porchConfig(dir.root, { server: sim.url, approve: true }, QUICK_RETRY));
    const label = `from ${lifecycle} with ${Object.keys(resources).join(', ')}`;
    assert.deepEqual(failedReasons(dir.root), [], label);
    assert.deepEqual(
      sim.writes().map((w) => w.operation),
      expectedWrites,
      `${label}: only the missing steps`,
    );
    assertDeliveredExactlyOnce(sim, [{ file, intent, intentId }], 'Published', 0);
    const status = JSON.parse(readFileSync(join(dir.root, 'status', 'intent-nf-r.status.json'), 'utf8')) as {
      receipt: Record<string, unknown>;
    };
    assert.equal(status.receipt['ref'], `${REPOSITORY}.nf-r.intent-${intentId}`, 'the receipt names the PackageRevision the server named');
    assert.equal(status.receipt['lifecycle'], 'Published');
  }
});

test('a stale resourceVersion (Porch answers 500 "object has been modified") is re-read and the step retried', async (t) => {
  const sim = await startSim();
  const dir = await setUp(t, sim);
  const { intent, intentId } = oneIntent(dir);
  // Hold our propose in the server for a moment, and change the revision meanwhile.
  const isPropose = (r: Request) => r.method === 'PUT' && /\/packagerevisions\/[^/]+$/.test(r.path);
  sim.faults.next({ kind: 'latency', ms: 1_000 }, { match: isPropose });
  const conductor = await buildConductor(porchConfig(dir.root, { server: sim.url, approve: true }, QUICK_RETRY));
  await conductor.start();
  const held = await waitFor('our propose to arrive', () => sim.requests().find((r) => isPropose(r) && r.status === 0));
  const name = held.path.split('/').pop()!;
  const resourcesUrl = `${sim.url}/apis/porch.kpt.dev/v1alpha1/namespaces/${NAMESPACE}/packagerevisionresources/${name}`;
  const current = (await (await request(resourcesUrl)).body.json()) as {
    metadata: Record<string, unknown>;
    spec: { resources: Record<string, string> };
  };
  current.spec.resources['NOTES.md'] = 'added by someone else while the sink was proposing\n';
  const edited = await request(resourcesUrl, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(current),
  });
  assert.equal(edited.statusCode, 200, await edited.body.text());
  await conductor.idle();
  await conductor.stop();

  const conflict = sim.requests().find((r) => isPropose(r) && r.status === 500);
  assert.ok(conflict, 'the held propose was refused as stale');
  assert.deepEqual(failedReasons(dir.root), []);
  assertDeliveredExactlyOnce(sim, [{ file: '', intent, intentId }], 'Published');
  assert.equal(
    sim.getResources(name, NAMESPACE)!['NOTES.md'],
    'added by someone else while the sink was proposing\n',
    'the other writer’s change is kept',
  );
  assert.equal(sim.writeCount({ operation: 'update' }), 1, 'one applied propose');
});

test('the in-flight lock (409) while an earlier write still runs: wait, look again, continue', async (t) => {
  const sim = await startSim();
  const dir = await setUp(t, sim);
  const { intent, intentId } = oneIntent(dir);
  const hold = sim.holdMutations();
  // The client gives up on the held create (a timeout: outcome unknown), looks, creates again → 409.
  const conductor = await buildConductor(porchConfig(dir.root, { server: sim.url, approve: true, timeoutMs: 300 }, QUICK_RETRY));
  await conductor.start();
  await waitFor('a 409 from the in-flight lock', () => sim.requests().some((r) => r.status === 409));
  hold.release();
  await conductor.idle();
  await conductor.stop();
  assert.deepEqual(failedReasons(dir.root), []);
  assertDeliveredExactlyOnce(sim, [{ file: '', intent, intentId }], 'Published');
});

test('429 waits as long as Retry-After says, and the traceparent goes on every request', async (t) => {
  const sim = await startSim({ recordTraceparent: true });
  const dir = await setUp(t, sim);
  const dropped = dropScalingIntents(dir.handoff, 3);
  sim.faults.next({ kind: 'rate-limit', retryAfterSeconds: 1 }, { match: isRevisionWrite('POST') });
  const traceparentOf = (intentId: string) => `00-${intentId.slice(0, 32)}-${intentId.slice(0, 16)}-01`;
  // Stands in for a tracing plugin: it sets the traceparent the sink must send.
  const tracer = definePlugin({
    name: 'test-tracer',
    kind: 'validate',
    description: 'sets ctx.trace.traceparent from the intent id',
    optionsSchema: { type: 'object', additionalProperties: false },
    defaults: {},
    create: () => ({
      apply(hooks) {
        hooks.validate.tap('test-tracer', (_intent, ctx) => {
          ctx.trace.traceparent = traceparentOf(ctx.intentId);
          return undefined;
        });
      },
    }),
  });
  const config = porchConfig(dir.root, { server: sim.url, approve: true }, QUICK_RETRY);
  (config['plugins'] as Record<string, unknown>)['test-tracer'] = {};
  config['modules'] = { 'test-tracer': tracer };
  const conductor = await buildConductor(config);
  const retries: RetryEvent[] = [];
  conductor.events.retry.tap('test', (event) => void retries.push(event));
  const started = performance.now();
  await conductor.start();
  await conductor.idle();
  await conductor.stop();

  assertDeliveredExactlyOnce(sim, dropped, 'Published');
  // The client repeats the throttled request itself (as client-go does), after the Retry-After:
  // the intent's attempt is not spent on it.
  assert.deepEqual(
    retries.map((r) => r.error.code),
    [],
    'no attempt of the core was spent on the 429',
  );
  const posts = sim.requests().filter((r) => r.method === 'POST' && r.path.endsWith('/packagerevisions'));
  assert.equal(posts.filter((r) => r.status === 429).length, 1, 'one create was throttled');
  assert.equal(posts.filter((r) => r.status === 201).length, 3, 'and repeated: three creates went through');
  assert.ok(performance.now() - started >= 1_000, 'the throttled create waited at least the Retry-After');

  const requests = sim.requests();
  const untraced = requests.filter((r) => r.traceparent === undefined);
  assert.deepEqual(
    untraced.map((r) => `${r.method} ${r.path}`),
    ['GET /apis/porch.kpt.dev/v1alpha1'],
    'only the start-up probe, which serves no intent, has none',
  );
  assert.deepEqual(
    new Set(requests.flatMap((r) => (r.traceparent ? [r.traceparent] : []))),
    new Set(dropped.map((d) => traceparentOf(d.intentId))),
  );
  for (const { intentId } of dropped) {
    const own = requests.filter((r) => r.path.includes(intentId));
    assert.ok(
      own.length >= 4 && own.every((r) => r.traceparent === traceparentOf(intentId)),
      'each intent’s requests carry its own traceparent',
    );
  }
});

test('a failing server opens the circuit (the sink reports it, the pod stays ready), and it closes again once the server recovers', async (t) => {
  const sim = await startSim({ faults: { error5xxRate: 1, error5xxStatus: 503 } });
  const dir = await setUp(t, sim);
  const conductor = await buildConductor(
    porchConfig(dir.root, { server: sim.url, approve: true, circuitBreaker: { failureThreshold: 3, resetMs: 100 } }, QUICK_RETRY),
    'run',
  );
  t.after(() => conductor.stop().then(() => undefined));
  const dropped = dropScalingIntents(dir.handoff, 3);
  await conductor.start();
  const open = await waitFor('the circuit to open', () => {
    const status = conductor.readiness().plugins['porch-sink'];
    return status?.details?.['circuit'] === 'open' ? status : undefined;
  });
  assert.equal(open.ready, false);
  assert.match(open.message ?? '', /circuit open after repeated failures: .*503/);
  // The sink's outage is reported; the pod stays ready (issue 14: readiness is about the pod).
  assert.equal(conductor.readiness().ready, true);
  assert.deepEqual(conductor.readiness().downstream, ['porch-sink']);

  sim.faults.reset();
  await waitFor('all intents delivered', () => filesIn(dir.root, 'processed').length === 3, 30_000);
  const status = conductor.readiness().plugins['porch-sink'];
  assert.equal(status?.details?.['circuit'], 'closed');
  assert.equal(status?.ready, true);
  assertDeliveredExactlyOnce(sim, dropped, 'Published');
});

test('a package whose only revision is unpublished waits in handoff/ (nothing to copy); once one is Published, a copy is made', async (t) => {
  const sim = await startSim({
    packages: [
      {
        repository: REPOSITORY,
        namespace: NAMESPACE,
        packageName: 'shared',
        workspaceName: 'manual',
        lifecycle: 'Proposed',
        resources: { Kptfile: 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: shared\n' },
      },
    ],
  });
  const dir = await setUp(t, sim);
  const { intent, intentId } = oneIntent(dir, 'nf-s', 4, { constraints: { kpt_package_name: 'shared' } });
  const first = await buildConductor(porchConfig(dir.root, { server: sim.url, approve: true }, GIVE_UP_RETRY));
  await first.start();
  await first.idle();
  await first.stop();
  assert.deepEqual(filesIn(dir.root, 'handoff'), ['intent-nf-s.json'], 'kept for later, not failed');
  assert.deepEqual(filesIn(dir.root, 'failed'), []);
  // Porch would refuse to create the package again (init or clone), so the sink does not ask.
  assert.equal(sim.requests().filter((r) => r.method === 'POST').length, 0, 'no create attempted');

  sim.seed({
    packages: [
      {
        repository: REPOSITORY,
        namespace: NAMESPACE,
        packageName: 'shared',
        resources: { Kptfile: 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: shared\n' },
      },
    ],
  });
  await runOnce(porchConfig(dir.root, { server: sim.url, approve: true }, QUICK_RETRY));
  assert.deepEqual(failedReasons(dir.root), []);
  const [mine] = sim.listRevisions({ packageName: 'shared', workspaceName: `intent-${intentId}` });
  assert.equal(mine?.spec.lifecycle, 'Published');
  assert.equal(mine?.spec.tasks?.[0]?.['type'], 'edit');
  assert.equal(replicasIn(sim.getResources(mine!.metadata.name, NAMESPACE)!, intent.target), 4);
});

test('an unmet readiness gate holds the proposal back (as porchctl does); once the condition is True, it goes through', async (t) => {
  const gatedKptfile =
    'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: gated\ninfo:\n  readinessGates:\n  - conditionType: config.example.org/Specialized\n';
  const sim = await startSim({
    packages: [
      {
        repository: REPOSITORY,
        namespace: NAMESPACE,
        packageName: 'gated',
        resources: { Kptfile: gatedKptfile, 'deployment.yaml': renderDeployment(scaling('nf-g', 1)) },
      },
    ],
  });
  const dir = await setUp(t, sim);
  const { intent, intentId } = oneIntent(dir, 'nf-g', 7, { constraints: { kpt_package_name: 'gated' } });
  const { log, records } = capturingLogger();
  await runOnce(porchConfig(dir.root, { server: sim.url, approve: true }, GIVE_UP_RETRY), log);
  assert.deepEqual(filesIn(dir.root, 'handoff'), ['intent-nf-g.json'], 'waiting, not failed');
  const [draft] = sim.listRevisions({ packageName: 'gated', workspaceName: `intent-${intentId}` });
  assert.equal(draft?.spec.lifecycle, 'Draft', 'resources written, not proposed');
  assert.equal(replicasIn(sim.getResources(draft.metadata.name, NAMESPACE)!, 'nf-g'), 7);
  const waiting = records().find((r) => r.msg.startsWith('intent left in handoff for later'));
  assert.match(
    waiting?.msg ?? '',
    /readiness gate config\.example\.org\/Specialized of deployments\.gated\.intent-[0-9a-f]{40} not True yet/,
  );

  // The controller that owns the gate reports it done, in the Kptfile (docs/porch.md §Simulator state).
  const url = `${sim.url}/apis/porch.kpt.dev/v1alpha1/namespaces/${NAMESPACE}/packagerevisionresources/${draft.metadata.name}`;
  const resources = (await (await request(url)).body.json()) as { spec: { resources: Record<string, string> } };
  const kptfile = YAML.parseDocument(resources.spec.resources['Kptfile']!);
  kptfile.setIn(['status', 'conditions'], [{ type: 'config.example.org/Specialized', status: 'True', reason: 'Done' }]);
  resources.spec.resources['Kptfile'] = kptfile.toString();
  const put = await request(url, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(resources) });
  assert.equal(put.statusCode, 200, await put.body.text());

  await runOnce(porchConfig(dir.root, { server: sim.url, approve: true }, QUICK_RETRY));
  assert.deepEqual(failedReasons(dir.root), []);
  assert.equal(sim.getRevision(draft.metadata.name, NAMESPACE)?.spec.lifecycle, 'Published');
  assert.equal(replicasIn(sim.getResources(draft.metadata.name, NAMESPACE)!, intent.target), 7);
});

test('requests that cannot succeed land in failed/ with the server’s message', async (t) => {
  const cases: { label: string; sim: Parameters<typeof startSim>[0]; sink?: Record<string, unknown>; message: RegExp }[] = [
    {
      label: 'missing repository',
      sim: {},
      sink: { repository: 'nowhere' },
      message: /404 NotFound: repositories\.config\.porch\.kpt\.dev "nowhere" not found/,
    },
    {
      label: 'v1alpha2 repository',
      sim: { repositories: [{ name: REPOSITORY, v1alpha2: true }] },
      message: /410 Gone: repository "deployments" is managed by v1alpha2/,
    },
    {
      label: 'workspace of another intent',
      sim: {
        packages: [
          {
            repository: REPOSITORY,
            namespace: NAMESPACE,
            packageName: 'nf-a',
            workspaceName: 'PLACEHOLDER',
            lifecycle: 'Draft',
            resources: { Kptfile: renderKptfile('nf-a', scaling('nf-a', 1)) },
            annotations: { [INTENT_ID_ANNOTATION]: 'f'.repeat(40) },
          },
        ],
      },
      message: /is annotated for intent f{40}, not [0-9a-f]{40}/,
    },
  ];
  for (const c of cases) {
    const dir = dataDirectory();
    const { intentId } = oneIntent(dir);
    for (const p of c.sim?.packages ?? []) if (p.workspaceName === 'PLACEHOLDER') p.workspaceName = `intent-${intentId}`;
    const sim = await startSim(c.sim);
    t.after(async () => {
      await sim.close();
      dir.cleanup();
    });
    await runOnce(porchConfig(dir.root, { server: sim.url, approve: true, ...c.sink }, QUICK_RETRY));
    assert.deepEqual(filesIn(dir.root, 'failed'), ['intent-nf-a.json'], c.label);
    const [reason] = failedReasons(dir.root);
    const record = JSON.parse(reason!) as { code: string; message: string; plugin?: string };
    assert.equal(record.code, 'CND_ERR_SUBMIT_PERMANENT', c.label);
    assert.match(record.message, c.message, c.label);
  }
});

test('concurrency caps the requests in flight to the server', async (t) => {
  const sim = await startSim({ mutationLatencyMs: 5 });
  const dir = await setUp(t, sim);
  const dropped = dropScalingIntents(dir.handoff, 20);
  const conductor = await buildConductor(porchConfig(dir.root, { server: sim.url, approve: true, concurrency: 2 }, QUICK_RETRY));
  let most = 0;
  let sampling = true;
  const sample = async () => {
    while (sampling) {
      most = Math.max(most, sim.requests().filter((r) => r.status === 0).length);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const sampler = sample();
  await conductor.start();
  await conductor.idle();
  await conductor.stop();
  sampling = false;
  await sampler;
  assertDeliveredExactlyOnce(sim, dropped, 'Published');
  assert.equal(most, 2, 'never more than two requests at the server at once, though 16 intents were in flight');
});
