// The round trips one intent costs, request by request, against the simulator: a new revision of
// an existing package is list, create, read resources, write resources, propose, list, approve
// (seven; six without approval), a new package the same after the blueprint's two reads (which
// the sink's blueprint cache spares the next new package), and an intent already Published one
// list. A request added to the flow (a read-back of what an answer already held, say) fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CircuitBreaker, INTENT_ID_ANNOTATION, type Intent } from '../../core/index.ts';
import { intentIdOf } from '../../core/intent/identity.ts';
import { renderDeployment } from '../../core/intent/krm.ts';
import { silentLogger } from '../../core/log.ts';
import { KubeClient } from '../../plugins/porch-sink/client.ts';
import { BlueprintCache, runFlow, type FlowResult } from '../../plugins/porch-sink/flow.ts';
import { PorchApi } from '../../plugins/porch-sink/porch-api.ts';
import { scaling } from '../support/data-dir.ts';
import type { PorchSim } from '../support/porch-sim/index.ts';
import { BLUEPRINT, NAMESPACE, REPOSITORY, replicasIn, startSim } from './support/harness.ts';

interface Bench {
  sim: PorchSim;
  api: PorchApi;
  blueprints: BlueprintCache;
}

async function setUp(t: { after(fn: () => Promise<void>): void }): Promise<Bench> {
  const sim = await startSim();
  const client = new KubeClient({
    connection: {
      origin: sim.url,
      basePath: '',
      tls: { rejectUnauthorized: true },
      token: undefined,
      source: 'test',
      warnings: [],
    },
    timeoutMs: 10_000,
    concurrency: 2,
    breaker: new CircuitBreaker({ name: 'porch-sink', failureThreshold: 1_000 }),
  });
  t.after(async () => {
    await client.close();
    await sim.close();
  });
  return { sim, api: new PorchApi(client), blueprints: new BlueprintCache(60_000) };
}

function intentFor(target: string, replicas: number, order: number): { intent: Intent; intentId: string } {
  const intent = scaling(target, replicas);
  return {
    intent,
    intentId: intentIdOf(`intent-${target}-${order}.json`, intent as unknown as Record<string, unknown>),
  };
}

/** Runs one intent's flow and returns its result and its requests, as `METHOD kind[/subresource]`. */
async function oneIntent(
  bench: Bench,
  target: string,
  replicas: number,
  order: number,
  approve = true,
): Promise<{ result: FlowResult; requests: string[] }> {
  const { intent, intentId } = intentFor(target, replicas, order);
  const before = bench.sim.requests().length;
  const result = await runFlow(bench.api, {
    intent,
    intentId,
    contentHash: `content-${target}-${replicas}`,
    order,
    at: { namespace: NAMESPACE, repository: REPOSITORY, packageName: target },
    approve,
    blueprint: BLUEPRINT,
    blueprints: bench.blueprints,
    signal: new AbortController().signal,
    traceparent: undefined,
    log: silentLogger(),
    plugin: 'porch-sink',
  });
  const requests = bench.sim
    .requests()
    .slice(before)
    .map((r) => `${r.method} ${requestKind(r.path)}`);
  return { result, requests };
}

/** The resource a path names, with `blueprint` for reads of the blueprint's repository. */
function requestKind(path: string): string {
  const [, resource, name, subresource] = /\/namespaces\/[^/]+\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(path) ?? [];
  const kind = `${resource ?? path}${subresource === undefined ? '' : `/${subresource}`}`;
  return name?.startsWith(`${BLUEPRINT.repository}.`) ? `${kind} (blueprint)` : kind;
}

const NEW_REVISION = [
  'GET packagerevisions',
  'POST packagerevisions',
  'GET packagerevisionresources',
  'PUT packagerevisionresources',
  'PUT packagerevisions',
  'GET packagerevisions',
  'PUT packagerevisions/approval',
];

test('a new revision of an existing package: seven requests, none a read-back of an answer', async (t) => {
  const bench = await setUp(t);
  await oneIntent(bench, 'nf-a', 2, 1);
  const { result, requests } = await oneIntent(bench, 'nf-a', 5, 2);
  assert.equal(result.lifecycle, 'Published');
  assert.equal(result.revision, 2);
  assert.deepEqual(requests, NEW_REVISION);
  assert.equal(replicasIn(bench.sim.getResources(result.name)!, 'nf-a'), 5, 'the published revision holds the intent');
});

test('a new package: the blueprint is read once (two requests), then every new package costs seven', async (t) => {
  const bench = await setUp(t);
  const first = await oneIntent(bench, 'nf-a', 2, 1);
  assert.equal(first.result.lifecycle, 'Published');
  assert.deepEqual(first.requests, [
    'GET packagerevisions',
    'GET packagerevisions',
    'GET packagerevisionresources (blueprint)',
    ...NEW_REVISION.slice(1),
  ]);
  const second = await oneIntent(bench, 'nf-b', 3, 2);
  assert.equal(second.result.lifecycle, 'Published');
  assert.deepEqual(second.requests, NEW_REVISION);
  assert.equal(replicasIn(bench.sim.getResources(second.result.name)!, 'nf-b'), 3);
});

test('without approval: six requests, the last a list checking the Proposed one is a copy of the latest', async (t) => {
  const bench = await setUp(t);
  await oneIntent(bench, 'nf-a', 2, 1);
  const { result, requests } = await oneIntent(bench, 'nf-a', 4, 2, false);
  assert.equal(result.lifecycle, 'Proposed');
  assert.deepEqual(requests, NEW_REVISION.slice(0, -1));
});

test('an intent whose revision is Published already (a redelivery with an empty ledger): one list', async (t) => {
  const bench = await setUp(t);
  const first = await oneIntent(bench, 'nf-a', 2, 1);
  const again = await oneIntent(bench, 'nf-a', 2, 1);
  assert.equal(again.result.name, first.result.name);
  assert.deepEqual(again.result.steps, []);
  assert.deepEqual(again.requests, ['GET packagerevisions']);
});

test('a resources write whose render changes the Kptfile: the revision is read back before the propose', async (t) => {
  const bench = await setUp(t);
  const kptfile = 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: nf-b\n';
  const resources = { Kptfile: kptfile, 'deployment.yaml': renderDeployment(scaling('nf-b', 1)) };
  bench.sim.seed({ packages: [{ repository: REPOSITORY, namespace: NAMESPACE, packageName: 'nf-b', resources }] });
  const published = bench.sim.listRevisions({
    repository: REPOSITORY,
    packageName: 'nf-b',
    lifecycle: 'Published',
  })[0]!;
  // An earlier attempt's Draft, its Kptfile as written before any render: the render that follows
  // the intent's write changes the Kptfile, so whatever Porch derives from it may have moved and
  // the propose must not send it back stale.
  const { intentId } = intentFor('nf-b', 3, 2);
  bench.sim.seed({
    packages: [
      {
        repository: REPOSITORY,
        namespace: NAMESPACE,
        packageName: 'nf-b',
        workspaceName: `intent-${intentId}`,
        lifecycle: 'Draft',
        resources,
        annotations: { [INTENT_ID_ANNOTATION]: intentId },
        tasks: [{ type: 'edit', edit: { sourceRef: { name: published.metadata.name } } }],
      },
    ],
  });
  const { result, requests } = await oneIntent(bench, 'nf-b', 3, 2);
  assert.equal(result.lifecycle, 'Published');
  assert.deepEqual(requests, NEW_REVISION.filter((r) => r !== 'POST packagerevisions').toSpliced(3, 0, 'GET packagerevisions'));
});
