// Issue 3, acceptance 2: an intent for a package that already has a Published revision makes a
// new revision by copying it (`edit`, since current Porch refuses init and clone of an existing
// package, docs/porch.md §Sharp edges item 14) and changes only the Deployment's replicas: every other
// byte of every file — comments, other fields, other files — stays as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { intentIdOf } from '../../core/intent/identity.ts';
import { dropIntent, scaling } from '../support/data-dir.ts';
import { LATEST_REVISION_LABEL, NF_SIM_KPTFILE, nfSimPackage, nfSimResources, type PorchSimOptions } from '../support/porch-sim/index.ts';
import { NAMESPACE, REPOSITORY, failedReasons, filesIn, porchConfig, runOnce, startSim, dataDirectory } from './support/harness.ts';

const FILE = 'intent-nf-sim-5.json';
const INTENT = scaling('nf-sim', 5, { namespace: 'ran', constraints: { kpt_package_name: 'ran-nf-sim' } });
const INTENT_ID = intentIdOf(FILE, INTENT as unknown as Record<string, unknown>);

// A revision Published by current Porch went through its render, which records the Rendered
// condition in the Kptfile (docs/porch.md §Versions, 2026-04 and later); the seed says so too, since the
// simulator stores seeds verbatim.
const RENDERED_KPTFILE = `${NF_SIM_KPTFILE}status:\n  conditions:\n  - type: Rendered\n    status: "True"\n    reason: RenderSuccess\n`;

async function submitToSeededPackage(approve: boolean, options: { kptfile?: string; sim?: PorchSimOptions } = {}) {
  const resources = { ...nfSimResources(), Kptfile: options.kptfile ?? RENDERED_KPTFILE };
  const sim = await startSim({ packages: [nfSimPackage(REPOSITORY, { namespace: NAMESPACE, resources })], ...options.sim });
  const dir = dataDirectory();
  const [seeded] = sim.listRevisions({ packageName: 'ran-nf-sim' });
  const seededName = seeded!.metadata.name;
  const before = sim.getResources(seededName, NAMESPACE)!;
  dropIntent(dir.handoff, FILE, INTENT);
  await runOnce(porchConfig(dir.root, { server: sim.url, approve }));
  const [mine] = sim.listRevisions({ packageName: 'ran-nf-sim', workspaceName: `intent-${INTENT_ID}` });
  assert.ok(mine, `a revision in workspace intent-${INTENT_ID}`);
  return { sim, dir, seededName, before, mine, after: sim.getResources(mine.metadata.name, NAMESPACE)! };
}

for (const [label, options] of [
  ['current Porch (render records the Rendered condition)', {}],
  ['Porch before 2026-04 (no Rendered condition)', { kptfile: NF_SIM_KPTFILE, sim: { compat: { renderedCondition: false } } }],
] as const) {
  test(`${label}: a new revision of an existing package differs from the Published one only in spec.replicas`, async (t) => {
    const result = await submitToSeededPackage(true, options);
    t.after(async () => {
      await result.sim.close();
      result.dir.cleanup();
    });
    assertOnlyReplicasChanged(result);
  });
}

function assertOnlyReplicasChanged({ dir, seededName, before, mine, after }: Awaited<ReturnType<typeof submitToSeededPackage>>): void {
  assert.deepEqual(failedReasons(dir.root), []);
  assert.equal(filesIn(dir.root, 'processed').length, 1);

  const spec = mine.spec;
  assert.equal(spec.lifecycle, 'Published');
  assert.equal(spec.revision, 2, 'the next revision after the seeded 1');
  assert.deepEqual(spec.tasks, [{ type: 'edit', edit: { sourceRef: { name: seededName } } }], 'a copy of the latest Published revision');
  assert.equal(mine.metadata.labels?.[LATEST_REVISION_LABEL], 'true');

  assert.deepEqual(Object.keys(after).sort(), Object.keys(before).sort(), 'the same files, none added or lost');
  for (const file of Object.keys(before)) {
    if (file === 'deployment.yaml') continue;
    assert.equal(after[file], before[file], `${file} is byte-for-byte unchanged`);
  }
  const oldLines = before['deployment.yaml']!.split('\n');
  const newLines = after['deployment.yaml']!.split('\n');
  assert.equal(newLines.length, oldLines.length);
  const changed = oldLines.flatMap((line, i) => (line === newLines[i] ? [] : [{ old: line, new: newLines[i] }]));
  assert.deepEqual(
    changed,
    [{ old: '  replicas: 2 # current scale', new: '  replicas: 5 # current scale' }],
    'exactly the replicas line changed, its comment kept',
  );
}

test('without approve the new revision stays Proposed and the seeded one remains the latest', async (t) => {
  const { sim, dir, seededName, mine, after } = await submitToSeededPackage(false);
  t.after(async () => {
    await sim.close();
    dir.cleanup();
  });
  assert.equal(mine.spec.lifecycle, 'Proposed');
  assert.match(after['deployment.yaml']!, /replicas: 5 # current scale/);
  const seeded = sim.getRevision(seededName, NAMESPACE)!;
  assert.equal(seeded.metadata.labels?.[LATEST_REVISION_LABEL], 'true');
  assert.equal(sim.writeCount({ operation: 'approval' }), 0, 'nothing approved');
});
