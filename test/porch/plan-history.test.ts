// Issue 17, acceptance 2 (and 3 for Porch): `conductor plan` against the Porch simulator shows
// the diff from the latest Published revision with read requests only; after the intent is
// delivered, plan calls it a duplicate and `conductor history` lists it from the annotations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { intentIdOf } from '../../core/intent/identity.ts';
import { runCli } from '../support/cli.ts';
import { dropIntent, scaling, tempDir, writeJsonConfig } from '../support/data-dir.ts';
import { NAMESPACE, REPOSITORY, dataDirectory, porchConfig, startSim } from './support/harness.ts';

const SEEDED_DEPLOYMENT = [
  'apiVersion: apps/v1',
  'kind: Deployment',
  'metadata:',
  '  name: app-seeded',
  'spec:',
  '  replicas: 2',
  '  template:',
  '    spec:',
  '      containers:',
  '      - name: app',
  '        image: registry.example/app:1.0.0',
  '',
].join('\n');
const SEEDED_KPTFILE = 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: app-seeded\n';

test('plan against Porch: the diff 2 → 5 from the latest Published revision, with no write request; then duplicate, and history', async (t) => {
  const sim = await startSim({
    packages: [
      {
        repository: REPOSITORY,
        namespace: NAMESPACE,
        packageName: 'app-seeded',
        resources: { Kptfile: SEEDED_KPTFILE, 'deployment.yaml': SEEDED_DEPLOYMENT },
      },
    ],
  });
  const dir = dataDirectory();
  const elsewhere = tempDir('conductor-plan-');
  t.after(async () => {
    await sim.close();
    dir.cleanup();
    rmSync(elsewhere, { recursive: true, force: true });
  });
  const config = writeJsonConfig(dir.root, porchConfig(dir.root, { server: sim.url, approve: true }));
  const intent = scaling('app-seeded', 5, { namespace: 'default' });
  const file = dropIntent(elsewhere, 'intent-app-seeded-5.json', intent);
  const fresh = dropIntent(elsewhere, 'intent-new-app.json', scaling('new-app', 3, { namespace: 'default' }));
  const [seeded] = sim.listRevisions({ packageName: 'app-seeded' });

  const seen = sim.requests().length;
  const planned = await runCli(['plan', '--config', config, file, fresh]);
  assert.equal(planned.code, 0, planned.stderr);
  assert.match(planned.stdout, /intent-app-seeded-5\.json {2}intent [0-9a-f]{40}: would apply/);
  assert.match(planned.stdout, new RegExp(`^--- a/${REPOSITORY}/app-seeded/deployment\\.yaml$`, 'm'));
  assert.match(planned.stdout, /^- {2}replicas: 2$/m);
  assert.match(planned.stdout, /^\+ {2}replicas: 5$/m);
  assert.match(planned.stdout, /intent-new-app\.json {2}intent [0-9a-f]{40}: would apply/);
  assert.match(planned.stdout, new RegExp(`^\\+\\+\\+ b/${REPOSITORY}/new-app/deployment\\.yaml$`, 'm'));
  const requests = sim.requests().slice(seen);
  assert.ok(requests.length > 0, 'plan asked the server');
  assert.deepEqual(
    requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`),
    [],
    'read requests only',
  );
  assert.equal(sim.writeCount(), 0, 'the simulator saw no write');

  const json = JSON.parse((await runCli(['plan', '--config', config, '--json', file])).stdout) as { intents: { base: string }[] };
  assert.equal(json.intents[0]!.base, seeded!.metadata.name, 'planned against the latest Published revision');

  // Delivered: the same intent is now a duplicate, and history names its revision.
  dropIntent(dir.handoff, 'intent-app-seeded-5.json', intent);
  const once = await runCli(['once', '--config', config]);
  assert.equal(once.code, 0, once.stderr);
  const again = await runCli(['plan', '--config', config, file]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /would be a duplicate: already Published as \S+ \(revision 2\)/);

  const intentId = intentIdOf('intent-app-seeded-5.json', intent as unknown as Record<string, unknown>);
  const [mine] = sim.listRevisions({ packageName: 'app-seeded', workspaceName: `intent-${intentId}` });
  rmSync(join(dir.root, 'state'), { recursive: true, force: true });
  const history = await runCli(['history', '--config', config, '--json', 'default/app-seeded']);
  assert.equal(history.code, 0, history.stderr);
  const { entries } = JSON.parse(history.stdout) as {
    entries: { intentId: string; replicas: number; receipt: { ref: string; revision: number } }[];
  };
  assert.deepEqual(
    entries.map((e) => [e.intentId, e.replicas, e.receipt.ref, e.receipt.revision]),
    [[intentId, 5, mine!.metadata.name, 2]],
  );
});
