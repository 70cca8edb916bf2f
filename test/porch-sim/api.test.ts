// The Porch simulator alone, checked against docs/porch.md: the worked flow of §Requests over raw
// HTTP, the Status envelopes of §Errors, discovery, repositories and access reviews.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { nfSimPackage, startPorchSim } from '../support/porch-sim/index.ts';
import type { PorchSim, PorchSimOptions } from '../support/porch-sim/index.ts';
import { FIXED_NOW, NS, PORCH, REPO, TOKEN, call, copyBody, draftBody } from '../support/porch-sim/testing.ts';
import type { Json, RawOptions } from '../support/porch-sim/testing.ts';

async function start(t: TestContext, options: PorchSimOptions = {}): Promise<PorchSim> {
  const sim = await startPorchSim({
    token: TOKEN,
    now: () => FIXED_NOW,
    repositories: [{ name: REPO }],
    ...options,
  });
  t.after(() => sim.close());
  return sim;
}

function api(sim: PorchSim) {
  return (method: string, path: string, options: RawOptions = {}) => call(sim.url, method, path, { token: TOKEN, ...options });
}

const N = `${REPO}.ran-nf-sim.i-3f2a9c1d7e`;

describe('worked flow of docs/porch.md §Requests', () => {
  it('creates, edits, proposes, approves, lists and deletes a package revision', async (t) => {
    const sim = await start(t);
    const http = api(sim);

    // (a) create a Draft with an init task: 201, server-computed name, shape of the doc
    const created = await http('POST', `${PORCH}/packagerevisions`, {
      body: draftBody('ran-nf-sim', 'i-3f2a9c1d7e', { labels: { 'nephoran.io/intent-hash': '3f2a9c1d7e' } }),
    });
    assert.equal(created.status, 201);
    const pr: Json = created.json;
    assert.equal(pr.kind, 'PackageRevision');
    assert.equal(pr.apiVersion, 'porch.kpt.dev/v1alpha1');
    assert.equal(pr.metadata.name, N);
    assert.equal(pr.metadata.namespace, NS);
    assert.match(pr.metadata.uid, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.match(pr.metadata.resourceVersion, /^[0-9a-f]{40}$/);
    assert.equal(pr.metadata.creationTimestamp, '2026-05-02T10:15:04Z');
    assert.deepEqual(pr.metadata.labels, { 'nephoran.io/intent-hash': '3f2a9c1d7e' });
    assert.deepEqual(pr.spec, {
      packageName: 'ran-nf-sim',
      repository: REPO,
      workspaceName: 'i-3f2a9c1d7e',
      lifecycle: 'Draft',
      tasks: [{ type: 'init', init: { description: 'nf-sim scaling intent', keywords: ['nephoran', 'scaling'] } }],
      packageMetadata: { annotations: { 'config.kubernetes.io/local-config': 'true' } },
    });
    assert.deepEqual(pr.status.upstreamLock, {});
    assert.equal(pr.status.publishTimestamp, null);
    assert.ok(Object.hasOwn(pr.status, 'publishTimestamp'));
    assert.deepEqual(pr.status.conditions, [{ type: 'Rendered', status: 'True', reason: 'RenderSuccess' }]);
    assert.equal(pr.status.selfLock.git.ref, 'drafts/ran-nf-sim/i-3f2a9c1d7e');
    const rv1 = pr.metadata.resourceVersion;

    // (b) read its resources: the three init files, the same RV, a renderStatus
    const resources = await http('GET', `${PORCH}/packagerevisionresources/${N}`);
    assert.equal(resources.status, 200);
    assert.equal(resources.json.kind, 'PackageRevisionResources');
    assert.equal(resources.json.metadata.resourceVersion, rv1);
    assert.equal(resources.json.metadata.uid, pr.metadata.uid);
    assert.deepEqual(Object.keys(resources.json.spec.resources).sort(), ['Kptfile', 'README.md', 'package-context.yaml']);
    const kptfile = parseYaml(resources.json.spec.resources.Kptfile);
    assert.equal(kptfile.metadata.name, 'ran-nf-sim');
    assert.equal(kptfile.metadata.annotations['config.kubernetes.io/local-config'], 'true');
    assert.deepEqual(kptfile.info, { description: 'nf-sim scaling intent', keywords: ['nephoran', 'scaling'] });
    assert.equal(parseYaml(resources.json.spec.resources['package-context.yaml']).data.name, 'example');
    assert.deepEqual(resources.json.status, {
      renderStatus: { result: { metadata: { creationTimestamp: null }, exitCode: 0 }, error: '' },
    });

    // (c) PUT new resources with the RV: full replacement, new RV shared with the PR
    const newFiles = {
      Kptfile: resources.json.spec.resources.Kptfile,
      'package-context.yaml': resources.json.spec.resources['package-context.yaml'],
      'deployment.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: nf-sim\n  namespace: ran\nspec:\n  replicas: 5\n',
    };
    const put = await http('PUT', `${PORCH}/packagerevisionresources/${N}`, {
      body: {
        apiVersion: 'porch.kpt.dev/v1alpha1',
        kind: 'PackageRevisionResources',
        metadata: { name: N, namespace: NS, resourceVersion: rv1 },
        spec: { resources: newFiles },
      },
    });
    assert.equal(put.status, 200);
    const rv2 = put.json.metadata.resourceVersion;
    assert.notEqual(rv2, rv1);
    assert.deepEqual(Object.keys(put.json.spec.resources).sort(), ['Kptfile', 'deployment.yaml', 'package-context.yaml']);
    assert.equal(parseYaml(put.json.spec.resources['deployment.yaml']).spec.replicas, 5);
    assert.ok(put.json.status.renderStatus);

    // (d) the PR fetched earlier is stale: GET again, then propose with the new RV
    const fresh = await http('GET', `${PORCH}/packagerevisions/${N}`);
    assert.equal(fresh.json.metadata.resourceVersion, rv2);
    const proposed = await http('PUT', `${PORCH}/packagerevisions/${N}`, {
      body: { ...fresh.json, spec: { ...fresh.json.spec, lifecycle: 'Proposed' } },
    });
    assert.equal(proposed.status, 200);
    assert.equal(proposed.json.spec.lifecycle, 'Proposed');
    assert.equal(proposed.json.status.selfLock.git.ref, 'proposed/ran-nf-sim/i-3f2a9c1d7e');
    const rv3 = proposed.json.metadata.resourceVersion;
    assert.notEqual(rv3, rv2);

    // (e) approve on the approval subresource: revision 1, latest label, publish facts, same name
    const approved = await http('PUT', `${PORCH}/packagerevisions/${N}/approval`, {
      body: { ...proposed.json, spec: { ...proposed.json.spec, lifecycle: 'Published' } },
    });
    assert.equal(approved.status, 200);
    assert.equal(approved.json.metadata.name, N);
    assert.equal(approved.json.spec.revision, 1);
    assert.equal(approved.json.spec.lifecycle, 'Published');
    assert.deepEqual(approved.json.metadata.labels, { 'nephoran.io/intent-hash': '3f2a9c1d7e', 'kpt.dev/latest-revision': 'true' });
    assert.equal(approved.json.status.publishedBy, 'system:serviceaccount:nephoran:conductor');
    assert.equal(approved.json.status.publishTimestamp, '2026-05-02T10:15:04Z');
    assert.equal(approved.json.status.selfLock.git.ref, 'ran-nf-sim/v1');
    assert.notEqual(approved.json.metadata.resourceVersion, rv3);

    // (f) list with field and label selectors
    const listed = await http(
      'GET',
      `${PORCH}/packagerevisions?fieldSelector=${encodeURIComponent(`spec.repository=${REPO},spec.packageName=ran-nf-sim`)}&labelSelector=${encodeURIComponent('kpt.dev/latest-revision=true')}`,
    );
    assert.equal(listed.status, 200);
    assert.equal(listed.json.kind, 'PackageRevisionList');
    assert.deepEqual(listed.json.metadata, {});
    assert.deepEqual(
      listed.json.items.map((i: Json) => i.metadata.name),
      [N],
    );

    // (g) delete: Published is 403; propose deletion, then DELETE answers 200 with the object
    const refused = await http('DELETE', `${PORCH}/packagerevisions/${N}`);
    assert.equal(refused.status, 403);
    const current = (await http('GET', `${PORCH}/packagerevisions/${N}`)).json;
    const deletionProposed = await http('PUT', `${PORCH}/packagerevisions/${N}`, {
      body: { ...current, spec: { ...current.spec, lifecycle: 'DeletionProposed' } },
    });
    assert.equal(deletionProposed.status, 200);
    assert.equal(deletionProposed.json.spec.lifecycle, 'DeletionProposed');
    const deleted = await http('DELETE', `${PORCH}/packagerevisions/${N}`);
    assert.equal(deleted.status, 200);
    assert.equal(deleted.json.kind, 'PackageRevision');
    assert.equal(deleted.json.metadata.name, N);
    assert.equal(deleted.json.spec.lifecycle, 'DeletionProposed');
    assert.equal((await http('GET', `${PORCH}/packagerevisions/${N}`)).status, 404);

    // the write history of the workspace, in order
    assert.deepEqual(
      sim.writes({ workspaceName: 'i-3f2a9c1d7e' }).map((w) => w.operation),
      ['create', 'update-resources', 'update', 'approval', 'update', 'delete'],
    );
    assert.equal(sim.writesPerWorkspace('create').get(`${REPO}/ran-nf-sim/i-3f2a9c1d7e`), 1);
  });

  it('makes the next revision with a copy (edit task) of the latest published one', async (t) => {
    const sim = await start(t, { packages: [nfSimPackage(REPO)] });
    const http = api(sim);
    const source = `${REPO}.ran-nf-sim.v1`;
    const copy = await http('POST', `${PORCH}/packagerevisions`, { body: copyBody('ran-nf-sim', 'i-aaaa', source) });
    assert.equal(copy.status, 201);
    assert.deepEqual(copy.json.spec.tasks, [{ type: 'edit', edit: { sourceRef: { name: source } } }]);
    const files = (await http('GET', `${PORCH}/packagerevisionresources/${copy.json.metadata.name}`)).json.spec.resources;
    assert.equal(parseYaml(files['deployment.yaml']).spec.replicas, 2);
    assert.ok(files['service.yaml']);
    // Approving it makes revision 2 the latest.
    const proposed = await http('PUT', `${PORCH}/packagerevisions/${copy.json.metadata.name}`, {
      body: { ...copy.json, spec: { ...copy.json.spec, lifecycle: 'Proposed' } },
    });
    const approved = await http('PUT', `${PORCH}/packagerevisions/${copy.json.metadata.name}/approval`, {
      body: { ...proposed.json, spec: { ...proposed.json.spec, lifecycle: 'Published' } },
    });
    assert.equal(approved.json.spec.revision, 2);
    const v1 = await http('GET', `${PORCH}/packagerevisions/${source}`);
    assert.equal(v1.json.metadata.labels?.['kpt.dev/latest-revision'], undefined);
  });

  it('accepts a merge PATCH for propose and for single-file updates', async (t) => {
    const sim = await start(t);
    const http = api(sim);
    const created = await http('POST', `${PORCH}/packagerevisions`, { body: draftBody('ran-nf-sim', 'i-patch') });
    const name = created.json.metadata.name;
    const fileAdded = await http('PATCH', `${PORCH}/packagerevisionresources/${name}`, {
      contentType: 'application/merge-patch+json',
      body: { spec: { resources: { 'extra.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n', 'README.md': null } } },
    });
    assert.equal(fileAdded.status, 200);
    assert.ok(fileAdded.json.spec.resources['extra.yaml']);
    assert.equal(fileAdded.json.spec.resources['README.md'], undefined);
    assert.ok(fileAdded.json.spec.resources.Kptfile);
    const proposed = await http('PATCH', `${PORCH}/packagerevisions/${name}`, {
      contentType: 'application/merge-patch+json',
      body: { spec: { lifecycle: 'Proposed' } },
    });
    assert.equal(proposed.status, 200);
    assert.equal(proposed.json.spec.lifecycle, 'Proposed');
    const approved = await http('PATCH', `${PORCH}/packagerevisions/${name}/approval`, {
      contentType: 'application/json-patch+json',
      body: [{ op: 'replace', path: '/spec/lifecycle', value: 'Published' }],
    });
    assert.equal(approved.status, 200);
    assert.equal(approved.json.spec.revision, 1);
  });
});

describe('Status envelopes of docs/porch.md §Errors', () => {
  it('404 NotFound for a missing PackageRevision', async (t) => {
    const http = api(await start(t));
    const res = await http('GET', `${PORCH}/packagerevisions/${REPO}.nothing.here`);
    assert.equal(res.status, 404);
    assert.deepEqual(res.json, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `packagerevisions.porch.kpt.dev "${REPO}.nothing.here" not found`,
      reason: 'NotFound',
      details: { name: `${REPO}.nothing.here`, group: 'porch.kpt.dev', kind: 'packagerevisions' },
      code: 404,
    });
    assert.equal(res.headers['content-type'], 'application/json');
  });

  it('404 on repositories for a create in an unknown repository', async (t) => {
    const http = api(await start(t));
    const body = draftBody('ran-nf-sim', 'ws');
    body.spec.repository = 'missing-repo';
    const res = await http('POST', `${PORCH}/packagerevisions`, { body });
    assert.equal(res.status, 404);
    assert.equal(res.json.message, 'repositories.config.porch.kpt.dev "missing-repo" not found');
    assert.deepEqual(res.json.details, { name: 'missing-repo', group: 'config.porch.kpt.dev', kind: 'repositories' });
  });

  it('400 BadRequest "spec.repositoryName is required" without details', async (t) => {
    const http = api(await start(t));
    const body = draftBody('ran-nf-sim', 'ws');
    delete body.spec.repository;
    const res = await http('POST', `${PORCH}/packagerevisions`, { body });
    assert.deepEqual(res.json, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'spec.repositoryName is required',
      reason: 'BadRequest',
      code: 400,
    });
  });

  it('400 for a name in the body that differs from the URL', async (t) => {
    const http = api(await start(t));
    const created = await http('POST', `${PORCH}/packagerevisions`, { body: draftBody('ran-nf-sim', 'ws') });
    const res = await http('PUT', `${PORCH}/packagerevisions/${created.json.metadata.name}`, {
      body: { ...created.json, metadata: { ...created.json.metadata, name: 'other.name.here' } },
    });
    assert.equal(res.status, 400);
    assert.equal(
      res.json.message,
      `the name of the object (other.name.here) does not match the name on the URL (${created.json.metadata.name})`,
    );
  });

  it('400 for a string spec.revision (an int on ≥ v4.1)', async (t) => {
    const http = api(await start(t));
    const body = draftBody('ran-nf-sim', 'ws');
    body.spec.revision = 'v1';
    const res = await http('POST', `${PORCH}/packagerevisions`, { body });
    assert.equal(res.status, 400);
    assert.equal(res.json.reason, 'BadRequest');
    assert.match(res.json.message, /cannot unmarshal string into Go struct field PackageRevisionSpec\.spec\.revision of type int/);
  });

  it('422 Invalid with one cause per field', async (t) => {
    const http = api(await start(t));
    const res = await http('POST', `${PORCH}/packagerevisions`, { body: draftBody('ran-nf-sim', '') });
    assert.equal(res.status, 422);
    assert.equal(res.json.reason, 'Invalid');
    assert.match(
      res.json.message,
      /^PackageRevision\.porch\.kpt\.dev "" is invalid: spec\.workspaceName: Invalid value: "": a lowercase RFC 1123 label must/,
    );
    assert.equal(res.json.details.group, 'porch.kpt.dev');
    assert.equal(res.json.details.kind, 'PackageRevision');
    assert.equal(res.json.details.causes.length, 1);
    assert.equal(res.json.details.causes[0].reason, 'FieldValueInvalid');
    assert.equal(res.json.details.causes[0].field, 'spec.workspaceName');
    assert.match(res.json.details.causes[0].message, /^Invalid value: "": a lowercase RFC 1123 label/);
  });

  it('403 Forbidden with the exact text for DELETE of a Published revision', async (t) => {
    const http = api(await start(t, { packages: [nfSimPackage(REPO)] }));
    const name = `${REPO}.ran-nf-sim.v1`;
    const res = await http('DELETE', `${PORCH}/packagerevisions/${name}`);
    assert.equal(res.status, 403);
    assert.equal(
      res.json.message,
      `packagerevisions.porch.kpt.dev "${name}" is forbidden: published PackageRevisions must be proposed for deletion by setting spec.lifecycle to 'DeletionProposed' prior to deletion`,
    );
    assert.deepEqual(res.json.details, { name, group: 'porch.kpt.dev', kind: 'packagerevisions' });
  });

  it('403 for deleting a revision that another one was cloned from', async (t) => {
    const sim = await start(t, { packages: [nfSimPackage(REPO)] });
    const http = api(sim);
    const clone = draftBody('ran-nf-sim-edge', 'ws', {
      tasks: [{ type: 'clone', clone: { upstreamRef: { upstreamRef: { name: `${REPO}.ran-nf-sim.v1` } } } }],
    });
    const cloned = await http('POST', `${PORCH}/packagerevisions`, { body: clone });
    assert.equal(cloned.status, 201);
    assert.equal(cloned.json.status.upstreamLock.type, 'git');
    const source = (await http('GET', `${PORCH}/packagerevisions/${REPO}.ran-nf-sim.v1`)).json;
    await http('PUT', `${PORCH}/packagerevisions/${REPO}.ran-nf-sim.v1`, {
      body: { ...source, spec: { ...source.spec, lifecycle: 'DeletionProposed' } },
    });
    const res = await http('DELETE', `${PORCH}/packagerevisions/${REPO}.ran-nf-sim.v1`);
    assert.equal(res.status, 403);
    assert.match(
      res.json.message,
      /cannot delete package revision, it is referenced as upstream by: nephoran-packages\.ran-nf-sim-edge\.ws$/,
    );
  });

  it('clone of a registered revision in another repository: its files, the Kptfile renamed, the upstream and its lock recorded', async (t) => {
    const sim = await start(t, { repositories: [{ name: REPO }, { name: 'blueprints' }], packages: [nfSimPackage('blueprints')] });
    const http = api(sim);
    const upstream = (await http('GET', `${PORCH}/packagerevisions/blueprints.ran-nf-sim.v1`)).json;
    const cloned = await http('POST', `${PORCH}/packagerevisions`, {
      body: draftBody('du-1', 'ws', {
        tasks: [{ type: 'clone', clone: { upstreamRef: { upstreamRef: { name: 'blueprints.ran-nf-sim.v1' } } } }],
      }),
    });
    assert.equal(cloned.status, 201, JSON.stringify(cloned.json));
    assert.deepEqual(cloned.json.spec.tasks, [
      { type: 'clone', clone: { upstreamRef: { upstreamRef: { name: 'blueprints.ran-nf-sim.v1' } } } },
    ]);
    const lock = {
      type: 'git',
      git: {
        repo: 'https://git.example/blueprints.git',
        directory: 'ran-nf-sim',
        ref: 'ran-nf-sim/v1',
        commit: upstream.metadata.resourceVersion,
      },
    };
    assert.deepEqual(cloned.json.status.upstreamLock, lock);
    const files = (await http('GET', `${PORCH}/packagerevisionresources/${cloned.json.metadata.name}`)).json.spec.resources;
    const source = (await http('GET', `${PORCH}/packagerevisionresources/blueprints.ran-nf-sim.v1`)).json.spec.resources;
    assert.deepEqual(Object.keys(files).sort(), Object.keys(source).sort(), 'every file of the upstream');
    assert.deepEqual(parseYaml(files['deployment.yaml']), parseYaml(source['deployment.yaml']));
    const kptfile = parseYaml(files.Kptfile);
    assert.equal(kptfile.metadata.name, 'du-1');
    assert.deepEqual(kptfile.upstream, {
      type: 'git',
      git: { repo: 'https://git.example/blueprints.git', directory: 'ran-nf-sim', ref: 'ran-nf-sim/v1' },
      updateStrategy: 'resource-merge',
    });
    assert.deepEqual(kptfile.upstreamLock, lock);
  });

  it('onWrite sees each applied write before its answer leaves', async (t) => {
    const sim = await start(t);
    const http = api(sim);
    const seen: string[] = [];
    const stop = sim.onWrite((w) => void seen.push(`${w.operation} ${w.workspaceName} ${w.lifecycleAfter}`));
    const created = await http('POST', `${PORCH}/packagerevisions`, { body: draftBody('ran-nf-sim', 'ws') });
    assert.deepEqual(seen, ['create ws Draft'], 'already seen when the answer arrives');
    stop();
    await http('DELETE', `${PORCH}/packagerevisions/${created.json.metadata.name}`);
    assert.equal(seen.length, 1, 'not after it was removed');
  });

  it('409 Conflict while another write holds the object', async (t) => {
    const sim = await start(t);
    const http = api(sim);
    const created = (await http('POST', `${PORCH}/packagerevisions`, { body: draftBody('ran-nf-sim', 'ws') })).json;
    const hold = sim.holdMutations();
    const first = http('PUT', `${PORCH}/packagerevisions/${created.metadata.name}`, {
      body: { ...created, spec: { ...created.spec, lifecycle: 'Proposed' } },
    });
    await hold.whenWaiting(1);
    const second = await http('PUT', `${PORCH}/packagerevisionresources/${created.metadata.name}`, {
      body: { metadata: { name: created.metadata.name, resourceVersion: created.metadata.resourceVersion }, spec: { resources: {} } },
    });
    hold.release();
    assert.equal((await first).status, 200);
    assert.equal(second.status, 409);
    assert.equal(second.json.reason, 'Conflict');
    assert.equal(
      second.json.message,
      `Operation cannot be fulfilled on packagerevisionresources.porch.kpt.dev "${created.metadata.name}": another request is already in progress on package revision resources "${NS}/${created.metadata.name}"`,
    );
    assert.deepEqual(second.json.details, { name: created.metadata.name, group: 'porch.kpt.dev', kind: 'packagerevisionresources' });
  });

  it('500 InternalError with causes for a stale resourceVersion', async (t) => {
    const http = api(await start(t));
    const created = (await http('POST', `${PORCH}/packagerevisions`, { body: draftBody('ran-nf-sim', 'ws') })).json;
    const name = created.metadata.name;
    const res = await http('PUT', `${PORCH}/packagerevisionresources/${name}`, {
      body: { metadata: { name, resourceVersion: '0000000000000000000000000000000000000000' }, spec: { resources: {} } },
    });
    const why = `Operation cannot be fulfilled on packagerevisionresources.porch.kpt.dev "${name}": the object has been modified; please apply your changes to the latest version and try again`;
    assert.deepEqual(res.json, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `Internal error occurred: ${why}`,
      reason: 'InternalError',
      details: { causes: [{ message: why }] },
      code: 500,
    });
  });

  it('500 for engine errors: more than one task, missing init, nested package', async (t) => {
    const sim = await start(t, { packages: [nfSimPackage(REPO)] });
    const http = api(sim);
    const twoTasks = draftBody('two', 'ws', {
      tasks: [
        { type: 'init', init: {} },
        { type: 'init', init: {} },
      ],
    });
    const a = await http('POST', `${PORCH}/packagerevisions`, { body: twoTasks });
    assert.equal(a.status, 500);
    assert.equal(a.json.message, 'Internal error occurred: task list must not contain more than one task');
    const noInit = await http('POST', `${PORCH}/packagerevisions`, { body: draftBody('bare', 'ws', { tasks: [{ type: 'init' }] }) });
    assert.equal(noInit.json.message, 'Internal error occurred: init not set for task of type "init"');
    const nested = await http('POST', `${PORCH}/packagerevisions`, { body: draftBody('ran-nf-sim/inner', 'ws') });
    assert.equal(nested.status, 500);
    assert.equal(
      nested.json.message,
      'Internal error occurred: package path "ran-nf-sim/inner" conflicts with existing package "ran-nf-sim": packages cannot be nested',
    );
  });

  it('410 Gone for creates in a v1alpha2-managed repository', async (t) => {
    const http = api(await start(t, { repositories: [{ name: 'crd-repo', v1alpha2: true }] }));
    const body = draftBody('ran-nf-sim', 'ws');
    body.spec.repository = 'crd-repo';
    const res = await http('POST', `${PORCH}/packagerevisions`, { body });
    assert.equal(res.status, 410);
    assert.equal(res.json.reason, 'Gone');
    assert.equal(res.json.message, 'repository "crd-repo" is managed by v1alpha2; use the v1alpha2 API');
  });

  it('405 MethodNotAllowed on packages writes, with Porch’s message', async (t) => {
    const http = api(await start(t));
    const res = await http('POST', `${PORCH}/packages`, { body: { metadata: {} } });
    assert.equal(res.status, 405);
    assert.equal(res.json.reason, 'MethodNotAllowed');
    assert.equal(
      res.json.message,
      'create or clone a PackageRevision resource to create a package as direct package creation is not supported on resources of kind "packages.porch.kpt.dev"',
    );
    const del = await http('DELETE', `${PORCH}/packages/${REPO}.ran-nf-sim`);
    assert.equal(del.status, 405);
    const prrDelete = await http('DELETE', `${PORCH}/packagerevisionresources/${REPO}.a.b`);
    assert.equal(prrDelete.status, 405);
    const prrCreate = await http('POST', `${PORCH}/packagerevisionresources`, { body: {} });
    assert.equal(prrCreate.status, 405);
  });

  it('403 in the RBAC shape for a denied verb', async (t) => {
    const http = api(await start(t, { deny: [{ verb: 'update', resource: 'packagerevisions', subresource: 'approval' }] }));
    const res = await http('PUT', `${PORCH}/packagerevisions/${REPO}.pkg.ws/approval`, { body: { metadata: { name: `${REPO}.pkg.ws` } } });
    assert.equal(res.status, 403);
    assert.equal(
      res.json.message,
      `packagerevisions.porch.kpt.dev "${REPO}.pkg.ws" is forbidden: User "system:serviceaccount:nephoran:conductor" cannot update resource "packagerevisions/approval" in API group "porch.kpt.dev" in the namespace "nephoran"`,
    );
    assert.equal(res.json.reason, 'Forbidden');
  });
});

describe('discovery, repositories and access reviews', () => {
  it('serves /version without a token and the porch APIResourceList with one', async (t) => {
    const sim = await start(t);
    const version = await call(sim.url, 'GET', '/version');
    assert.equal(version.status, 200);
    assert.equal(version.json.major, '1');
    const unauthenticated = await call(sim.url, 'GET', '/apis/porch.kpt.dev/v1alpha1');
    assert.equal(unauthenticated.status, 401);
    const list = await api(sim)('GET', '/apis/porch.kpt.dev/v1alpha1');
    assert.equal(list.json.kind, 'APIResourceList');
    assert.equal(list.json.groupVersion, 'porch.kpt.dev/v1alpha1');
    const byName = Object.fromEntries(list.json.resources.map((r: Json) => [r.name, r.verbs]));
    assert.deepEqual(Object.keys(byName).sort(), ['packagerevisionresources', 'packagerevisions', 'packagerevisions/approval', 'packages']);
    assert.deepEqual(byName['packagerevisionresources'], ['get', 'list', 'patch', 'update']);
    assert.ok(!Object.keys(byName).includes('packagerevisions/status'));
  });

  it('gets and lists Repository CRs; an unknown one is 404', async (t) => {
    const http = api(await start(t, { repositories: [{ name: REPO }, { name: 'blueprints', deployment: false }] }));
    const list = await http('GET', `/apis/config.porch.kpt.dev/v1alpha1/namespaces/${NS}/repositories`);
    assert.equal(list.status, 200);
    assert.equal(list.json.kind, 'RepositoryList');
    assert.deepEqual(
      list.json.items.map((r: Json) => r.metadata.name),
      ['blueprints', REPO],
    );
    const one = await http('GET', `/apis/config.porch.kpt.dev/v1alpha1/namespaces/${NS}/repositories/${REPO}`);
    assert.equal(one.json.spec.git.branch, 'main');
    assert.equal(one.json.status.conditions[0].type, 'Ready');
    const missing = await http('GET', `/apis/config.porch.kpt.dev/v1alpha1/namespaces/${NS}/repositories/nope`);
    assert.equal(missing.status, 404);
    assert.equal(missing.json.message, 'repositories.config.porch.kpt.dev "nope" not found');
  });

  it('answers SelfSubjectAccessReviews from the deny list', async (t) => {
    const sim = await start(t, { deny: [{ verb: 'delete', resource: 'packagerevisions' }] });
    const http = api(sim);
    const review = (verb: string, subresource = '') =>
      http('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: { namespace: NS, verb, group: 'porch.kpt.dev', resource: 'packagerevisions', subresource } },
        },
      });
    const allowed = await review('update', 'approval');
    assert.equal(allowed.status, 201);
    assert.equal(allowed.json.kind, 'SelfSubjectAccessReview');
    assert.equal(allowed.json.status.allowed, true);
    assert.equal(allowed.json.spec.resourceAttributes.subresource, 'approval');
    const denied = await review('delete');
    assert.equal(denied.json.status.allowed, false);
    sim.setDenyRules([]);
    assert.equal((await review('delete')).json.status.allowed, true);
  });
});
