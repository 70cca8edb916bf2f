// Issue 14, acceptance 4: the production overlay's Role in the Porch namespace grants exactly
// what the porch sink's client sends. Preflight (`validate --check-connectivity`) and the full
// flow (new packages, a second intent for the same targets, approval, a stale Draft replaced) run against the Porch
// API simulator; (verb, group, resource) come from the simulator's request log, and the Role
// rendered with `kubectl kustomize` must grant that set: no less, no more.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { createConductor } from '../../core/app.ts';
import { resolveConfig } from '../../core/config/validate.ts';
import { silentLogger } from '../../core/log.ts';
import { requiredAccess } from '../../plugins/porch-sink/preflight.ts';
import { REPO_ROOT } from '../support/cli.ts';
import { attributesOf, parseRoute } from '../support/porch-sim/routes.ts';
import type { RequestRecord } from '../support/porch-sim/types.ts';
import { dropIntent, scaling } from '../support/data-dir.ts';
import {
  NAMESPACE,
  REPOSITORY,
  dataDirectory,
  dropScalingIntents,
  filesIn,
  porchConfig,
  runOnce,
  startSim,
} from '../porch/support/harness.ts';

type Access = string; // "verb group/resource[/subresource]"

const show = (verb: string, group: string, resource: string): Access => `${verb} ${group}/${resource}`;

/**
 * What a request needs from RBAC. Discovery and /version are non-resource URLs every
 * authenticated subject may read (system:discovery, system:public-info-viewer), and a
 * SelfSubjectAccessReview is granted to everyone by system:basic-user: none of them belongs
 * in Conductor's Role.
 */
function accessOf(record: RequestRecord): Access | undefined {
  const route = parseRoute(record.path);
  const attributes = attributesOf(record.method, route, new URLSearchParams(record.query));
  if (attributes === undefined || attributes.resource === 'selfsubjectaccessreviews') return undefined;
  const resource = attributes.subresource === '' ? attributes.resource : `${attributes.resource}/${attributes.subresource}`;
  return show(attributes.verb, attributes.group, resource);
}

interface Role {
  metadata: { name: string; namespace?: string };
  rules: { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[];
}

function grantsOf(role: Role): Set<Access> {
  const out = new Set<Access>();
  for (const rule of role.rules) {
    for (const group of rule.apiGroups)
      for (const resource of rule.resources) for (const verb of rule.verbs) out.add(show(verb, group, resource));
  }
  return out;
}

/** What is missing from the grants and what they give beyond the requests. */
function compare(sent: Set<Access>, granted: Set<Access>): { missing: Access[]; extra: Access[] } {
  return { missing: [...sent].filter((a) => !granted.has(a)).sort(), extra: [...granted].filter((a) => !sent.has(a)).sort() };
}

function renderProduction(): { kind: string; metadata: { name: string; namespace?: string } }[] {
  const kubectl = process.env['KUBECTL'] ?? 'kubectl';
  const text = execFileSync(kubectl, ['kustomize', join(REPO_ROOT, 'kustomize', 'overlays', 'production')], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return parseAllDocuments(text)
    .map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string } })
    .filter(Boolean);
}

async function preflight(sim: { url: string }): Promise<void> {
  const dir = dataDirectory();
  try {
    const resolved = await resolveConfig(porchConfig(dir.root, { server: sim.url, approve: true }), {
      source: 'rbac test',
      baseDir: dir.root,
    });
    const conductor = await createConductor(resolved, { log: silentLogger(), mode: 'check' });
    const checks = await conductor.plugins.find((p) => p.id === 'porch-sink')!.instance.preflight!(AbortSignal.timeout(10_000));
    conductor.ledger.close();
    assert.deepEqual(
      checks.filter((c) => !c.ok),
      [],
      'the preflight passes',
    );
  } finally {
    dir.cleanup();
  }
}

test('the production Role in the Porch namespace grants exactly what preflight and the flow send', { timeout: 120_000 }, async (t) => {
  const sim = await startSim({ seed: 14 });
  const dir = dataDirectory();
  t.after(async () => {
    await sim.close();
    dir.cleanup();
  });

  await preflight(sim);
  const config = porchConfig(dir.root, { server: sim.url, approve: true });
  dropScalingIntents(dir.handoff, 3, 'rbac');
  await runOnce(config);
  assert.equal(filesIn(dir.root, 'processed').length, 3);
  // The same targets again, with other replicas: the flow on packages that already exist.
  for (const [i, file] of ['intent-rbac-again-0.json', 'intent-rbac-again-1.json'].entries()) {
    dropIntent(dir.handoff, file, scaling(`rbac-${i}`, 7 + i), { atomic: true });
  }
  await runOnce(config);
  assert.equal(filesIn(dir.root, 'processed').length, 5);
  // Another writer publishes while an intent's Draft exists: the flow reads that Draft again and
  // deletes it, as stale, before copying the new latest revision (issue 18 defect 3).
  const stop = sim.onWrite((write) => {
    if (write.packageName !== 'rbac-2' || !write.workspaceName.startsWith('intent-') || write.operation === 'approval') return;
    stop();
    const latest = sim.listRevisions({ packageName: 'rbac-2', lifecycle: 'Published' }).at(-1)!;
    const resources = { ...sim.getResources(latest.metadata.name, NAMESPACE)! };
    const tasks = [{ type: 'edit', edit: { sourceRef: { name: latest.metadata.name } } }];
    sim.seed({
      packages: [{ repository: REPOSITORY, namespace: NAMESPACE, packageName: 'rbac-2', workspaceName: 'other-writer', resources, tasks }],
    });
  });
  dropIntent(dir.handoff, 'intent-rbac-stale.json', scaling('rbac-2', 9), { atomic: true });
  await runOnce(config);
  stop();
  assert.equal(filesIn(dir.root, 'processed').length, 6);
  assert.ok(sim.writeCount({ operation: 'delete' }) >= 1, 'a stale Draft was replaced');

  const sent = new Set(
    sim
      .requests()
      .map(accessOf)
      .filter((a): a is Access => a !== undefined),
  );
  t.diagnostic(`the client sent: ${[...sent].sort().join(', ')}`);

  // The preflight asks the API server (SelfSubjectAccessReview) for exactly these accesses too.
  const asked = new Set(
    requiredAccess(true).map((a) => show(a.verb, a.group, a.subresource === undefined ? a.resource : `${a.resource}/${a.subresource}`)),
  );
  assert.deepEqual(compare(sent, asked), { missing: [], extra: [] }, 'the preflight checks exactly what the flow sends');

  const objects = renderProduction();
  const porchNamespace = 'porch-demo';
  const roles = objects.filter((o) => o.kind === 'Role' && o.metadata.namespace === porchNamespace) as unknown as Role[];
  assert.equal(roles.length, 1, 'one Role in the Porch namespace');
  const granted = grantsOf(roles[0]!);
  assert.deepEqual(compare(sent, granted), { missing: [], extra: [] }, `Role ${roles[0]!.metadata.name} grants exactly what is sent`);

  // The check can fail: a rule taken away, or a write verb added, is a difference.
  const withoutOne = new Set(granted);
  withoutOne.delete([...granted].sort()[0]!);
  assert.equal(compare(sent, withoutOne).missing.length, 1, 'a removed rule is reported missing');
  for (const verb of ['patch', 'watch']) {
    const widened = new Set(granted).add(show(verb, 'porch.kpt.dev', 'packagerevisions'));
    assert.deepEqual(compare(sent, widened).extra, [show(verb, 'porch.kpt.dev', 'packagerevisions')], `an added ${verb} is reported`);
  }

  // Conductor's own namespace: no Role at all (nothing reads ConfigMaps or writes Events through
  // the API), and the git-sink-only base mounts no token.
  const own = objects.filter((o) => o.kind === 'Role' && o.metadata.namespace === 'conductor');
  assert.deepEqual(
    own.map((o) => o.metadata.name),
    [],
    'no Role in the conductor namespace',
  );
});
