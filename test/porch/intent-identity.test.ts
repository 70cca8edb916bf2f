// What the Porch sink records with each effect, and what it concludes from it at the server —
// the truth, whatever the ledger remembers:
// - issue 13 defect 1: the effect's identity is the intent id *and* its content. A reused
//   correlation_id with other content, once the ledger forgot the first intent, is
//   CND_ERR_INTENT_CONFLICT, and the first intent's revision stays what it was;
// - issue 18 defect 4: the newest intent for a target wins across replicas. An intent older (by
//   the producer's write time) than one whose effect is Published is settled as `superseded`
//   and changes nothing; a newer one applies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AUDIT_ANCHOR_ANNOTATION, INTENT_ID_ANNOTATION } from '../../core/index.ts';
import { intentIdOf } from '../../core/intent/identity.ts';
import { CONTENT_HASH_ANNOTATION, INTENT_ORDER_ANNOTATION } from '../../plugins/porch-sink/flow.ts';
import { dropIntent, scaling } from '../support/data-dir.ts';
import {
  NAMESPACE,
  REPOSITORY,
  dataDirectory,
  failedReasons,
  filesIn,
  porchConfig,
  replicasIn,
  runOnce,
  startSim,
} from './support/harness.ts';

interface Status {
  status: string;
  code?: string;
  message?: string;
}

function statusOf(root: string, file: string): Status {
  return JSON.parse(readFileSync(join(root, 'status', file.replace(/\.json$/, '.status.json')), 'utf8')) as Status;
}

test('a correlation_id reused with other content, the ledger lost: CND_ERR_INTENT_CONFLICT, the replicas stay 3', async (t) => {
  const sim = await startSim();
  const dir = dataDirectory();
  t.after(async () => {
    await sim.close();
    dir.cleanup();
  });
  const file = 'intent-appc.json';
  const first = scaling('appc', 3, { correlation_id: 'corr-1' });
  const intentId = intentIdOf(file, first as unknown as Record<string, unknown>);
  dropIntent(dir.handoff, file, first);
  await runOnce(porchConfig(dir.root, { server: sim.url, approve: true }));
  assert.deepEqual(failedReasons(dir.root), []);
  const [revision] = sim.listRevisions({ packageName: 'appc', workspaceName: `intent-${intentId}` });
  assert.equal(revision?.spec.lifecycle, 'Published');

  // The ledger forgets (an emptyDir after rescheduling, retention): only the sink remembers.
  rmSync(join(dir.root, 'state'), { recursive: true, force: true });
  const second = scaling('appc', 7, { correlation_id: 'corr-1' });
  assert.equal(intentIdOf(file, second as unknown as Record<string, unknown>), intentId, 'the same intent id');
  dropIntent(dir.handoff, file, second);
  const writesBefore = sim.writeCount();
  await runOnce(porchConfig(dir.root, { server: sim.url, approve: true }));

  assert.deepEqual(filesIn(dir.root, 'failed'), [file]);
  const status = statusOf(dir.root, file);
  assert.equal(status.status, 'failed');
  assert.equal(status.code, 'CND_ERR_INTENT_CONFLICT');
  assert.match(status.message ?? '', /made for intent [0-9a-f]{40} with other content/);
  assert.equal(sim.writeCount(), writesBefore, 'nothing written');
  const published = sim.listRevisions({ packageName: 'appc', lifecycle: 'Published' });
  assert.equal(published.length, 1);
  assert.equal(replicasIn(sim.getResources(published[0]!.metadata.name, NAMESPACE)!, 'appc'), 3, 'the published replicas are still 3');
  // What the sink found it by: the id, the content hash and the producer's order, on the revision.
  const annotations = revision.metadata.annotations ?? {};
  assert.equal(annotations[INTENT_ID_ANNOTATION], intentId);
  assert.match(annotations[CONTENT_HASH_ANNOTATION] ?? '', /^[0-9a-f]{40}$/, 'the content hash is recorded with the effect');
  assert.match(annotations[INTENT_ORDER_ANNOTATION] ?? '', /^\d+(\.\d+)?$/, 'the producer’s order is recorded with the effect');
});

test('newer intent applied first, an older one afterwards: superseded, no new revision; a newer one still applies', async (t) => {
  const sim = await startSim();
  const dir = dataDirectory();
  t.after(async () => {
    await sim.close();
    dir.cleanup();
  });
  // The producer's write time (the file's mtime) orders intents for one target.
  dropIntent(dir.handoff, 'intent-du-new.json', scaling('du-1', 5), { ageMs: 1_000 });
  await runOnce(porchConfig(dir.root, { server: sim.url, approve: true }));
  assert.deepEqual(failedReasons(dir.root), []);
  const afterNewer = sim.writeCount();
  const revisionsAfterNewer = sim.listRevisions({ repository: REPOSITORY, packageName: 'du-1' }).length;

  dropIntent(dir.handoff, 'intent-du-old.json', scaling('du-1', 3), { ageMs: 60_000 });
  await runOnce(porchConfig(dir.root, { server: sim.url, approve: true }));
  const status = statusOf(dir.root, 'intent-du-old.json');
  assert.equal(status.status, 'superseded', JSON.stringify(status));
  assert.equal(status.code, 'CND_ERR_INTENT_SUPERSEDED');
  assert.deepEqual(filesIn(dir.root, 'handoff'), []);
  assert.deepEqual(filesIn(dir.root, 'failed'), [], 'superseded is no failure');
  assert.equal(sim.writeCount(), afterNewer, 'no write for the older intent');
  assert.equal(sim.listRevisions({ repository: REPOSITORY, packageName: 'du-1' }).length, revisionsAfterNewer, 'no new revision');
  const [latest] = sim.listRevisions({ packageName: 'du-1', lifecycle: 'Published' });
  assert.equal(replicasIn(sim.getResources(latest!.metadata.name, NAMESPACE)!, 'du-1'), 5, 'the newer replicas stay');

  // A newer intent than the one applied goes through as usual.
  dropIntent(dir.handoff, 'intent-du-newest.json', scaling('du-1', 8));
  await runOnce(porchConfig(dir.root, { server: sim.url, approve: true }));
  assert.equal(statusOf(dir.root, 'intent-du-newest.json').status, 'succeeded');
  const newest = sim.listRevisions({ packageName: 'du-1', lifecycle: 'Published' }).find((r) => r.spec.revision === 2);
  assert.equal(replicasIn(sim.getResources(newest!.metadata.name, NAMESPACE)!, 'du-1'), 8);
});

test('an older intent resumed after a newer one was published elsewhere: superseded, its Draft deleted, nothing published', async (t) => {
  const file = 'intent-du-2.json';
  const older = scaling('du-2', 3);
  const intentId = intentIdOf(file, older as unknown as Record<string, unknown>);
  const newer = scaling('du-2', 5);
  const olderAt = Date.now() - 60_000;
  const kptfile = 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: du-2\n';
  const deployment = (replicas: number) =>
    `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: du-2\n  namespace: oran-odu\nspec:\n  replicas: ${replicas}\n`;
  const sim = await startSim({
    packages: [
      {
        repository: REPOSITORY,
        namespace: NAMESPACE,
        packageName: 'du-2',
        resources: { Kptfile: kptfile, 'deployment.yaml': deployment(1) },
      },
      // Another replica applied the newer intent (its order is recorded on its revision)…
      {
        repository: REPOSITORY,
        namespace: NAMESPACE,
        packageName: 'du-2',
        workspaceName: `intent-${intentIdOf('intent-du-2-new.json', newer as unknown as Record<string, unknown>)}`,
        resources: { Kptfile: kptfile, 'deployment.yaml': deployment(5) },
        annotations: { [INTENT_ORDER_ANNOTATION]: String(olderAt + 30_000) },
      },
      // …while this one's Draft, copied from v1, waited for a crashed replica.
      {
        repository: REPOSITORY,
        namespace: NAMESPACE,
        packageName: 'du-2',
        workspaceName: `intent-${intentId}`,
        lifecycle: 'Draft',
        resources: { Kptfile: kptfile, 'deployment.yaml': deployment(3) },
        tasks: [{ type: 'edit', edit: { sourceRef: { name: `${REPOSITORY}.du-2.v1` } } }],
        annotations: { [INTENT_ID_ANNOTATION]: intentId, [INTENT_ORDER_ANNOTATION]: String(olderAt) },
      },
    ],
  });
  const dir = dataDirectory();
  t.after(async () => {
    await sim.close();
    dir.cleanup();
  });
  dropIntent(dir.handoff, file, older, { ageMs: 60_000 });
  await runOnce(porchConfig(dir.root, { server: sim.url, approve: true }));
  const status = statusOf(dir.root, file);
  assert.equal(status.status, 'superseded', JSON.stringify(status));
  assert.deepEqual(
    sim.writes().map((w) => `${w.operation} ${w.workspaceName}`),
    [`delete intent-${intentId}`],
    'only its Draft was removed',
  );
  const published = sim.listRevisions({ packageName: 'du-2', lifecycle: 'Published' });
  assert.equal(Math.max(...published.map((r) => r.spec.revision ?? 0)), 2, 'no revision 3');
});

test('each revision carries the audit chain head before its effect (issue 19 defect 6), as the audit log names it', async (t) => {
  const sim = await startSim();
  const dir = dataDirectory();
  t.after(async () => {
    await sim.close();
    dir.cleanup();
  });
  for (const [i, target] of ['appa', 'appb'].entries()) dropIntent(dir.handoff, `intent-${target}.json`, scaling(target, 2 + i));
  const config = porchConfig(dir.root, { server: sim.url, approve: true });
  const plugins = { ...(config['plugins'] as Record<string, unknown>), 'audit-log': {} };
  await runOnce({ ...config, concurrency: 1, plugins });
  assert.deepEqual(failedReasons(dir.root), []);
  const anchors = ['appa', 'appb'].map((packageName) => {
    const [revision] = sim.listRevisions({ packageName }).filter((r) => r.metadata.annotations?.[INTENT_ID_ANNOTATION] !== undefined);
    return revision?.metadata.annotations?.[AUDIT_ANCHOR_ANNOTATION];
  });
  for (const anchor of anchors) assert.match(anchor ?? '', /^audit\.log@\d+:[0-9a-f]{64}$/);
  // Taken at different points of the chain: the second effect saw the first one's record.
  assert.notEqual(anchors[0], anchors[1]);
});
