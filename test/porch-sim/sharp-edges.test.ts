// One test per "sharp edge a naive simulator would miss" of docs/porch.md §Sharp edges (items 1–18),
// each against the simulator over raw HTTP.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { nfSimPackage, startPorchSim } from '../support/porch-sim/index.ts';
import type { PorchSim, PorchSimOptions } from '../support/porch-sim/index.ts';
import { uuidV5 } from '../support/porch-sim/uid.ts';
import { FIXED_NOW, NS, PORCH, REPO, TOKEN, call, copyBody, draftBody } from '../support/porch-sim/testing.ts';
import type { Json, RawOptions, RawResponse } from '../support/porch-sim/testing.ts';

interface Harness {
  sim: PorchSim;
  http: (method: string, path: string, options?: RawOptions) => Promise<RawResponse>;
  create: (packageName: string, workspaceName: string, extra?: Parameters<typeof draftBody>[2]) => Promise<Json>;
  get: (name: string) => Promise<Json>;
  lifecycle: (pr: Json, lifecycle: string, subresource?: '' | '/approval') => Promise<RawResponse>;
  publish: (packageName: string, workspaceName: string) => Promise<Json>;
}

async function harness(t: TestContext, options: PorchSimOptions = {}): Promise<Harness> {
  const sim = await startPorchSim({ token: TOKEN, now: () => FIXED_NOW, repositories: [{ name: REPO }], ...options });
  t.after(() => sim.close());
  const http = (method: string, path: string, o: RawOptions = {}) => call(sim.url, method, path, { token: TOKEN, ...o });
  const create = async (packageName: string, workspaceName: string, extra?: Parameters<typeof draftBody>[2]) => {
    const res = await http('POST', `${PORCH}/packagerevisions`, { body: draftBody(packageName, workspaceName, extra) });
    assert.equal(res.status, 201, res.text);
    return res.json;
  };
  const get = async (name: string) => (await http('GET', `${PORCH}/packagerevisions/${name}`)).json;
  const lifecycle = (pr: Json, value: string, subresource: '' | '/approval' = '') =>
    http('PUT', `${PORCH}/packagerevisions/${pr.metadata.name}${subresource}`, { body: { ...pr, spec: { ...pr.spec, lifecycle: value } } });
  const publish = async (packageName: string, workspaceName: string) => {
    const draft = await create(packageName, workspaceName);
    const proposed = await lifecycle(draft, 'Proposed');
    const approved = await lifecycle(proposed.json, 'Published', '/approval');
    assert.equal(approved.status, 200, approved.text);
    return approved.json;
  };
  return { sim, http, create, get, lifecycle, publish };
}

describe('docs/porch.md §Sharp edges', () => {
  it('1: the server computes the name and ignores metadata.name and generateName', async (t) => {
    const h = await harness(t);
    const body = draftBody('ran/nf-sim', 'i-1');
    body.metadata.name = 'client-chosen';
    body.metadata.generateName = 'client-prefix-';
    const res = await h.http('POST', `${PORCH}/packagerevisions`, { body });
    assert.equal(res.status, 201);
    assert.equal(res.json.metadata.name, `${REPO}.ran.nf-sim.i-1`);
    assert.equal(res.json.spec.packageName, 'ran/nf-sim');
    assert.equal((await h.http('GET', `${PORCH}/packagerevisions/client-chosen`)).status, 500);
  });

  it('2: a duplicate create is 500 InternalError; a concurrent create is 409 "(new creation)"', async (t) => {
    const h = await harness(t);
    await h.create('ran-nf-sim', 'i-dup');
    const dup = await h.http('POST', `${PORCH}/packagerevisions`, { body: draftBody('ran-nf-sim', 'i-dup') });
    assert.equal(dup.status, 500);
    assert.equal(dup.json.reason, 'InternalError');
    assert.equal(
      dup.json.message,
      `Internal error occurred: package revision workspaceNames must be unique; package revision with name ran-nf-sim in repo ${REPO} with workspaceName i-dup already exists`,
    );

    const hold = h.sim.holdMutations();
    const first = h.http('POST', `${PORCH}/packagerevisions`, { body: draftBody('other-pkg', 'i-race') });
    await hold.whenWaiting(1);
    const second = await h.http('POST', `${PORCH}/packagerevisions`, { body: draftBody('other-pkg', 'i-race') });
    hold.release();
    assert.equal((await first).status, 201);
    assert.equal(second.status, 409);
    assert.equal(second.json.details.name, '(new creation)');
    assert.equal(
      second.json.message,
      `Operation cannot be fulfilled on packagerevisions.porch.kpt.dev "(new creation)": another request is already in progress to create package revision with details namespace="${NS}", repository="${REPO}", package="other-pkg",workspace="i-race"`,
    );
    assert.equal(h.sim.writesPerWorkspace('create').get(`${REPO}/other-pkg/i-race`), 1);
  });

  it('3: a stale or missing resourceVersion is 500 with the Conflict text; only the lock gives 409', async (t) => {
    const h = await harness(t);
    const draft = await h.create('ran-nf-sim', 'i-rv');
    const stale = { ...draft, metadata: { ...draft.metadata, resourceVersion: 'f'.repeat(40) } };
    const stalePut = await h.lifecycle(stale, 'Proposed');
    assert.equal(stalePut.status, 500);
    assert.equal(stalePut.json.reason, 'InternalError');
    assert.match(
      stalePut.json.message,
      /^Internal error occurred: Operation cannot be fulfilled on packagerevisions\.porch\.kpt\.dev ".*": the object has been modified; please apply your changes to the latest version and try again$/,
    );
    const missing = { ...draft, metadata: { ...draft.metadata } };
    delete missing.metadata.resourceVersion;
    const missingPut = await h.lifecycle(missing, 'Proposed');
    assert.equal(missingPut.status, 500);
    assert.equal(missingPut.json.message, 'Internal error occurred: resourceVersion must be specified for an update');
    const proposed = (await h.lifecycle(draft, 'Proposed')).json;
    const staleApproval = await h.lifecycle(
      { ...proposed, metadata: { ...proposed.metadata, resourceVersion: draft.metadata.resourceVersion } },
      'Published',
      '/approval',
    );
    assert.equal(staleApproval.status, 500);
    assert.match(staleApproval.json.message, /the object has been modified/);
    assert.equal(h.sim.writeCount({ workspaceName: 'i-rv', operation: 'approval' }), 0);
  });

  it('4: PR and PRR share the RV, and a write to either makes the other stale', async (t) => {
    const h = await harness(t);
    const draft = await h.create('ran-nf-sim', 'i-share');
    const prr = (await h.http('GET', `${PORCH}/packagerevisionresources/${draft.metadata.name}`)).json;
    assert.equal(prr.metadata.resourceVersion, draft.metadata.resourceVersion);
    const written = await h.http('PUT', `${PORCH}/packagerevisionresources/${draft.metadata.name}`, { body: prr });
    assert.equal(written.status, 200);
    // The PR fetched before the PRR write is now stale.
    const proposeWithOld = await h.lifecycle(draft, 'Proposed');
    assert.equal(proposeWithOld.status, 500);
    const pr = await h.get(draft.metadata.name);
    assert.equal(pr.metadata.resourceVersion, written.json.metadata.resourceVersion);
    // And a PR write makes the PRR stale.
    assert.equal((await h.lifecycle(pr, 'Draft')).status, 200);
    const prrWithOld = await h.http('PUT', `${PORCH}/packagerevisionresources/${draft.metadata.name}`, { body: written.json });
    assert.equal(prrWithOld.status, 500);
    assert.match(prrWithOld.json.message, /packagerevisionresources\.porch\.kpt\.dev .*the object has been modified/);
  });

  it('5: approval only through /approval; the main resource refuses Published (422) and /approval refuses Draft', async (t) => {
    const h = await harness(t);
    const draft = await h.create('ran-nf-sim', 'i-approve');
    const approveDraft = await h.lifecycle(draft, 'Published', '/approval');
    assert.equal(approveDraft.status, 422);
    assert.match(
      approveDraft.json.message,
      /spec\.lifecycle: Invalid value: "Draft": cannot approve package with Draft lifecycle value; only Proposed packages can be approved/,
    );
    const proposed = (await h.lifecycle(draft, 'Proposed')).json;
    const viaMain = await h.lifecycle(proposed, 'Published');
    assert.equal(viaMain.status, 422);
    // The message quotes the OLD lifecycle.
    assert.equal(
      viaMain.json.message,
      `PackageRevision.porch.kpt.dev "${draft.metadata.name}" is invalid: spec.lifecycle: Invalid value: "Proposed": value can be only updated to Draft,Proposed`,
    );
    const toProposed = await h.lifecycle(proposed, 'Proposed', '/approval');
    assert.equal(toProposed.status, 422);
    assert.match(toProposed.json.message, /value for approval can be only one of Draft,Published/);
    const approved = await h.lifecycle(proposed, 'Published', '/approval');
    assert.equal(approved.status, 200);
    const again = await h.lifecycle(approved.json, 'Published', '/approval');
    assert.equal(again.status, 422, 'approving a Published revision is not a no-op');
    assert.match(again.json.message, /can only be updated to 'ProposeDeletion'/);
  });

  it('6: a PUT without spec.lifecycle turns a Proposed revision back into Draft (and is 422 on Published)', async (t) => {
    const h = await harness(t);
    const proposed = (await h.lifecycle(await h.create('ran-nf-sim', 'i-omit'), 'Proposed')).json;
    const withoutLifecycle = structuredClone(proposed);
    delete withoutLifecycle.spec.lifecycle;
    const res = await h.http('PUT', `${PORCH}/packagerevisions/${proposed.metadata.name}`, { body: withoutLifecycle });
    assert.equal(res.status, 200);
    assert.equal(res.json.spec.lifecycle, 'Draft');
    const published = await h.publish('ran-nf-sim-2', 'i-pub');
    const pubWithout = structuredClone(published);
    delete pubWithout.spec.lifecycle;
    const refused = await h.http('PUT', `${PORCH}/packagerevisions/${published.metadata.name}`, { body: pubWithout });
    assert.equal(refused.status, 422);
    assert.match(refused.json.message, /spec: Invalid value: .*spec can only update package with lifecycle value one of Draft,Proposed/);
  });

  it('7: a PRR PUT is a full replace, Draft only, re-rendered; a render failure stores nothing', async (t) => {
    const h = await harness(t);
    const draft = await h.create('ran-nf-sim', 'i-render');
    const name = draft.metadata.name;
    const prr = (await h.http('GET', `${PORCH}/packagerevisionresources/${name}`)).json;
    const deployment =
      '# scaled by intent\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: nf-sim\nspec:\n    replicas: 3 # keep\n    ports:\n        - 80\n';
    const put = await h.http('PUT', `${PORCH}/packagerevisionresources/${name}`, {
      body: { ...prr, spec: { resources: { Kptfile: prr.spec.resources.Kptfile, 'deployment.yaml': deployment } } },
    });
    assert.equal(put.status, 200);
    assert.deepEqual(Object.keys(put.json.spec.resources).sort(), ['Kptfile', 'deployment.yaml'], 'files left out are deleted');
    const stored = put.json.spec.resources['deployment.yaml'];
    assert.notEqual(stored, deployment, 'the render re-serialises the text');
    assert.deepEqual(parseYaml(stored), parseYaml(deployment), 'but the parsed YAML is the same');
    assert.match(stored, /# scaled by intent/);
    assert.match(stored, /# keep/);

    const broken = await h.http('PUT', `${PORCH}/packagerevisionresources/${name}`, {
      body: { ...put.json, spec: { resources: { ...put.json.spec.resources, 'bad.yaml': 'a: [\n' } } },
    });
    assert.equal(broken.status, 500);
    assert.match(
      broken.json.message,
      /^Internal error occurred: error rendering package in kpt function pipeline\. Package NOT pushed to remote\./,
    );
    const after = (await h.http('GET', `${PORCH}/packagerevisionresources/${name}`)).json;
    assert.equal(after.metadata.resourceVersion, put.json.metadata.resourceVersion, 'nothing stored');
    assert.equal(after.spec.resources['bad.yaml'], undefined);

    const proposed = (await h.lifecycle(await h.get(name), 'Proposed')).json;
    const onProposed = await h.http('PUT', `${PORCH}/packagerevisionresources/${name}`, {
      body: { ...after, metadata: { ...after.metadata, resourceVersion: proposed.metadata.resourceVersion } },
    });
    assert.equal(onProposed.status, 500);
    assert.equal(
      onProposed.json.message,
      'Internal error occurred: cannot update a package revision with lifecycle value "Proposed"; package must be Draft',
    );
  });

  it('7b: with push-on-render-failure the files are stored but the answer is still 500', async (t) => {
    const h = await harness(t);
    const body = draftBody('ran-nf-sim', 'i-push');
    body.metadata.annotations = { 'porch.kpt.dev/push-on-render-failure': 'true' };
    const created = await h.http('POST', `${PORCH}/packagerevisions`, { body });
    const name = created.json.metadata.name;
    const prr = (await h.http('GET', `${PORCH}/packagerevisionresources/${name}`)).json;
    const res = await h.http('PUT', `${PORCH}/packagerevisionresources/${name}`, {
      body: { ...prr, spec: { resources: { ...prr.spec.resources, 'bad.yaml': 'a: [\n' } } },
    });
    assert.equal(res.status, 500);
    assert.match(res.json.message, /Package pushed to remote despite render failure/);
    assert.equal(h.sim.getResources(name)?.['bad.yaml'], 'a: [\n');
  });

  it('8: spec.revision is assigned on approval only, and the …main placeholder (-1) appears in lists', async (t) => {
    const h = await harness(t);
    const draft = await h.create('ran-nf-sim', 'i-rev');
    assert.ok(!Object.hasOwn(draft.spec, 'revision'), 'revision 0 is omitted');
    const proposed = (await h.lifecycle(draft, 'Proposed')).json;
    assert.ok(!Object.hasOwn(proposed.spec, 'revision'));
    const published = (await h.lifecycle(proposed, 'Published', '/approval')).json;
    assert.equal(published.spec.revision, 1);
    const list = await h.http('GET', `${PORCH}/packagerevisions?fieldSelector=spec.packageName%3Dran-nf-sim`);
    const placeholder = list.json.items.find((i: Json) => i.metadata.name === `${REPO}.ran-nf-sim.main`);
    assert.ok(placeholder, 'placeholder listed');
    assert.equal(placeholder.spec.revision, -1);
    assert.equal(placeholder.spec.lifecycle, 'Published');
    assert.equal(placeholder.metadata.labels?.['kpt.dev/latest-revision'], undefined, 'the placeholder never gets the latest label');
    const second = await h.publish('ran-nf-sim-b', 'i-b');
    assert.equal(second.spec.revision, 1, 'revisions count per package');
    const copy = await h.http('POST', `${PORCH}/packagerevisions`, { body: copyBody('ran-nf-sim', 'i-next', published.metadata.name) });
    const next = (await h.lifecycle((await h.lifecycle(copy.json, 'Proposed')).json, 'Published', '/approval')).json;
    assert.equal(next.spec.revision, 2);
    const copyFromPlaceholder = await h.http('POST', `${PORCH}/packagerevisions`, {
      body: copyBody('ran-nf-sim', 'i-ph', `${REPO}.ran-nf-sim.main`),
    });
    assert.equal(copyFromPlaceholder.status, 500);
    assert.match(copyFromPlaceholder.json.message, /source revision may not be the placeholder package revision/);
  });

  it('9: kpt.dev/latest-revision is server-owned (422) and moves on publish and delete', async (t) => {
    const h = await harness(t, { packages: [nfSimPackage(REPO)] });
    const setOnCreate = await h.http('POST', `${PORCH}/packagerevisions`, {
      body: draftBody('fresh', 'ws', { labels: { 'kpt.dev/latest-revision': 'true' } }),
    });
    assert.equal(setOnCreate.status, 422);
    assert.match(
      setOnCreate.json.message,
      /metadata\.labels\.kpt\.dev\/latest-revision: Forbidden: label is managed by porch and cannot be set by users/,
    );
    const v1 = await h.get(`${REPO}.ran-nf-sim.v1`);
    assert.equal(v1.metadata.labels['kpt.dev/latest-revision'], 'true');
    const dropLabel = await h.http('PUT', `${PORCH}/packagerevisions/${v1.metadata.name}`, {
      body: { ...v1, metadata: { ...v1.metadata, labels: {} } },
    });
    assert.equal(dropLabel.status, 422);
    assert.match(dropLabel.json.message, /label is managed by porch and cannot be modified by users/);

    const copy = await h.http('POST', `${PORCH}/packagerevisions`, { body: copyBody('ran-nf-sim', 'i-v2', v1.metadata.name) });
    const v2 = (await h.lifecycle((await h.lifecycle(copy.json, 'Proposed')).json, 'Published', '/approval')).json;
    assert.equal(v2.metadata.labels['kpt.dev/latest-revision'], 'true');
    assert.equal((await h.get(v1.metadata.name)).metadata.labels?.['kpt.dev/latest-revision'], undefined);
    const latest = await h.http('GET', `${PORCH}/packagerevisions?labelSelector=kpt.dev%2Flatest-revision%3Dtrue`);
    assert.deepEqual(
      latest.json.items.map((i: Json) => i.metadata.name),
      [v2.metadata.name],
    );
    // Deleting v2 (after DeletionProposed) moves the label back to v1.
    const dp = await h.lifecycle(v2, 'DeletionProposed', '/approval');
    assert.equal(dp.status, 200);
    assert.equal((await h.http('DELETE', `${PORCH}/packagerevisions/${v2.metadata.name}`)).status, 200);
    assert.equal((await h.get(v1.metadata.name)).metadata.labels['kpt.dev/latest-revision'], 'true');
  });

  it('10: DELETE of Published is 403; DELETE answers 200 with the object and ignores preconditions and dryRun', async (t) => {
    const h = await harness(t);
    const draft = await h.create('ran-nf-sim', 'i-del');
    const res = await h.http('DELETE', `${PORCH}/packagerevisions/${draft.metadata.name}?dryRun=All`, {
      body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: 'not-the-uid', resourceVersion: 'stale' } },
    });
    assert.equal(res.status, 200);
    assert.equal(res.json.kind, 'PackageRevision');
    assert.equal(res.json.metadata.uid, draft.metadata.uid);
    assert.equal((await h.http('GET', `${PORCH}/packagerevisions/${draft.metadata.name}`)).status, 404, 'dryRun did not stop the delete');
    const published = await h.publish('ran-nf-sim', 'i-pub');
    assert.equal((await h.http('DELETE', `${PORCH}/packagerevisions/${published.metadata.name}`)).status, 403);
  });

  it('11: lists have no pagination, items null when empty, equality-only selectors, and the metadata.name quirk', async (t) => {
    const h = await harness(t, { repositories: [{ name: REPO }, { name: 'other-repo' }] });
    const empty = await h.http('GET', `${PORCH}/packagerevisions`);
    assert.equal(empty.text.includes('"items":null'), true);
    assert.deepEqual(empty.json.metadata, {});
    await h.create('a-pkg', 'ws-1');
    await h.create('b-pkg', 'ws-1');
    const limited = await h.http('GET', `${PORCH}/packagerevisions?limit=1`);
    assert.equal(limited.json.items.length, 2, 'limit is ignored');
    assert.equal(limited.json.metadata.continue, undefined);
    const sel = (s: string) => h.http('GET', `${PORCH}/packagerevisions?fieldSelector=${encodeURIComponent(s)}`);
    const notEqual = await sel('spec.packageName!=a-pkg');
    assert.equal(notEqual.status, 400);
    assert.equal(notEqual.json.message, 'unsupported fieldSelector operator "!=" for field "spec.packageName"');
    assert.equal((await sel('spec.packageName=')).status, 400);
    const unknown = await sel('spec.foo=bar');
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json.message, '"spec.foo" is not a known field selector');
    const bogus = await sel('spec.lifecycle=Bogus');
    assert.equal(bogus.status, 400);
    assert.equal(bogus.json.message, 'unsupported fieldSelector value "Bogus" for field "spec.lifecycle"');
    assert.equal((await sel('spec.packageName==a-pkg')).json.items.length, 1);
    // A metadata.name that does not parse filters nothing at all.
    assert.equal((await sel('metadata.name=nodots')).json.items.length, 2);
    // A parsable one replaces earlier key filters (here: a repository that matches nothing).
    const overwritten = await sel(`spec.repository=other-repo,metadata.name=${REPO}.a-pkg.ws-1`);
    assert.deepEqual(
      overwritten.json.items.map((i: Json) => i.metadata.name),
      [`${REPO}.a-pkg.ws-1`],
    );
    const kept = await sel(`metadata.name=${REPO}.a-pkg.ws-1,spec.repository=other-repo`);
    assert.equal(kept.json.items, null);
  });

  it('12: publishTimestamp is null while unpublished, conditions lack lastTransitionTime, uids are deterministic', async (t) => {
    const h = await harness(t);
    const draft = await h.create('ran-nf-sim', 'i-uid');
    assert.equal(draft.status.publishTimestamp, null);
    for (const c of draft.status.conditions) assert.ok(!Object.hasOwn(c, 'lastTransitionTime'));
    await h.http('DELETE', `${PORCH}/packagerevisions/${draft.metadata.name}`);
    const again = await h.create('ran-nf-sim', 'i-uid');
    assert.equal(again.metadata.uid, draft.metadata.uid, 'a re-created object has the same uid');
    assert.notEqual(again.metadata.resourceVersion, draft.metadata.resourceVersion);
    // The UUIDv5 scheme reproduces a uid seen on a real server (porch e2e rpkg-init).
    const sim2 = await startPorchSim({ namespace: 'rpkg-init', repositories: [{ name: 'git', namespace: 'rpkg-init' }] });
    t.after(() => sim2.close());
    const real = await call(sim2.url, 'POST', '/apis/porch.kpt.dev/v1alpha1/namespaces/rpkg-init/packagerevisions', {
      body: { spec: { packageName: 'init-package', repository: 'git', workspaceName: 'init-1' } },
    });
    assert.equal(real.json.metadata.uid, '45ee0692-730a-51b2-9a1d-ad4f4ad55dc8');
    assert.equal(
      uuidV5('aac71d91-5c67-456f-8fd2-902ef6da820e', 'my-prefixporch.kpt.dev/v1alpha1/my-namespace/my.kube.name.of-something'),
      '272983f7-a30d-58e0-a809-c38e8638666d',
    );
  });

  it('13: a malformed name is a bare 500; a PRR GET in a missing repository is 404 on repositories', async (t) => {
    const h = await harness(t);
    const malformed = await h.http('GET', `${PORCH}/packagerevisions/nodots`);
    assert.equal(malformed.status, 500);
    assert.equal(malformed.json.reason, undefined);
    assert.equal(malformed.json.details, undefined);
    assert.match(malformed.json.message, /^package revision kubernetes resource name invalid:/);
    const prr = await h.http('GET', `${PORCH}/packagerevisionresources/missing-repo.pkg.ws`);
    assert.equal(prr.status, 404);
    assert.equal(prr.json.message, 'repositories.config.porch.kpt.dev "missing-repo" not found');
    const pr = await h.http('GET', `${PORCH}/packagerevisions/missing-repo.pkg.ws`);
    assert.equal(pr.status, 404);
    assert.equal(pr.json.details.kind, 'packagerevisions');
  });

  it('14: init or clone into an existing package is 500; new revisions come from an edit of a Published one', async (t) => {
    const h = await harness(t, { packages: [nfSimPackage(REPO)] });
    const init = await h.http('POST', `${PORCH}/packagerevisions`, { body: draftBody('ran-nf-sim', 'i-new') });
    assert.equal(init.status, 500);
    assert.equal(init.json.message, `Internal error occurred: package "ran-nf-sim" already exists in repository "${REPO}"`);
    const clone = await h.http('POST', `${PORCH}/packagerevisions`, {
      body: draftBody('ran-nf-sim', 'i-clone', {
        tasks: [{ type: 'clone', clone: { upstreamRef: { upstreamRef: { name: `${REPO}.ran-nf-sim.v1` } } } }],
      }),
    });
    assert.equal(clone.status, 500);
    assert.match(clone.json.message, /`clone` cannot create a new revision for package "ran-nf-sim" that already exists in repo/);
    const draftCopy = await h.http('POST', `${PORCH}/packagerevisions`, { body: copyBody('ran-nf-sim', 'i-c1', `${REPO}.ran-nf-sim.v1`) });
    assert.equal(draftCopy.status, 201);
    const fromDraft = await h.http('POST', `${PORCH}/packagerevisions`, {
      body: copyBody('ran-nf-sim', 'i-c2', draftCopy.json.metadata.name),
    });
    assert.equal(fromDraft.status, 500);
    assert.equal(fromDraft.json.message, 'Internal error occurred: source revision must be published');
    const otherPackage = await h.http('POST', `${PORCH}/packagerevisions`, { body: copyBody('another', 'i-c3', `${REPO}.ran-nf-sim.v1`) });
    assert.match(otherPackage.json.message, /source revision must be from same package/);

    const older = await harness(t, { packages: [nfSimPackage(REPO)], compat: { rejectInitOfExistingPackage: false } });
    const allowed = await older.http('POST', `${PORCH}/packagerevisions`, { body: draftBody('ran-nf-sim', 'i-new') });
    assert.equal(allowed.status, 201, 'before v1.5.6 an init of an existing package was allowed');
  });

  it('15: readiness gates are mirrored to the Kptfile but not enforced', async (t) => {
    const h = await harness(t);
    const body = draftBody('ran-nf-sim', 'i-gates');
    body.spec.readinessGates = [{ conditionType: 'nephoran.io/validated' }];
    const created = await h.http('POST', `${PORCH}/packagerevisions`, { body });
    assert.deepEqual(created.json.spec.readinessGates, [{ conditionType: 'nephoran.io/validated' }]);
    const kptfile = parseYaml(h.sim.getResources(created.json.metadata.name)?.['Kptfile'] ?? '');
    assert.deepEqual(kptfile.info.readinessGates, [{ conditionType: 'nephoran.io/validated' }]);
    const proposed = await h.lifecycle(created.json, 'Proposed');
    const approved = await h.lifecycle(proposed.json, 'Published', '/approval');
    assert.equal(approved.status, 200, 'no condition nephoran.io/validated, still approved');
  });

  it('16: a 429 is text/plain with Retry-After; a 504 can hide a write that happened', async (t) => {
    const h = await harness(t);
    h.sim.faults.next({ kind: 'rate-limit', retryAfterSeconds: 7 }, { writesOnly: false });
    const limited = await h.http('GET', `${PORCH}/packagerevisions`);
    assert.equal(limited.status, 429);
    assert.match(String(limited.headers['content-type']), /^text\/plain/);
    assert.equal(limited.headers['retry-after'], '7');
    assert.equal(limited.text, 'Too many requests, please try again later.\n');
    h.sim.faults.next({ kind: 'apply-then-fail', mode: 'timeout' });
    const lost = await h.http('POST', `${PORCH}/packagerevisions`, { body: draftBody('ran-nf-sim', 'i-lost') });
    assert.equal(lost.status, 504);
    assert.equal(lost.json.reason, 'Timeout');
    assert.equal((await h.http('GET', `${PORCH}/packagerevisions/${REPO}.ran-nf-sim.i-lost`)).status, 200, 'the create happened');
  });

  it('17: spec.repository is the JSON key; repositoryName is dropped and the error names the Go field', async (t) => {
    const h = await harness(t);
    const body = draftBody('ran-nf-sim', 'i-key');
    body.spec.repositoryName = body.spec.repository;
    delete body.spec.repository;
    const res = await h.http('POST', `${PORCH}/packagerevisions`, { body });
    assert.equal(res.status, 400);
    assert.equal(res.json.message, 'spec.repositoryName is required');
    const ok = await h.http('POST', `${PORCH}/packagerevisions`, {
      body: { ...draftBody('ran-nf-sim', 'i-key'), spec: { ...draftBody('ran-nf-sim', 'i-key').spec, extraField: 1 } },
    });
    assert.equal(ok.status, 201);
    assert.match(String(ok.headers['warning']), /unknown field \\"spec\.extraField\\"/);
  });

  it('18: only the creation task is kept; with no tasks the default is init "<pkg> description"', async (t) => {
    const h = await harness(t);
    const res = await h.http('POST', `${PORCH}/packagerevisions`, {
      body: { metadata: {}, spec: { packageName: 'ran-nf-sim', repository: REPO, workspaceName: 'i-notask' } },
    });
    assert.equal(res.status, 201);
    assert.deepEqual(res.json.spec.tasks, [{ type: 'init', init: { description: 'ran-nf-sim description' } }]);
    const name = res.json.metadata.name;
    const prr = (await h.http('GET', `${PORCH}/packagerevisionresources/${name}`)).json;
    await h.http('PUT', `${PORCH}/packagerevisionresources/${name}`, { body: prr });
    const proposed = await h.lifecycle(await h.get(name), 'Proposed');
    assert.deepEqual(proposed.json.spec.tasks, [{ type: 'init', init: { description: 'ran-nf-sim description' } }]);
  });
});
