// Turning stored records into the JSON the real server sends (docs/porch.md §Objects).
// Field order follows the Go structs; omitempty fields are left out exactly when Go leaves them out.

import { KPTFILE, kptfileFacts } from './kptfile.ts';
import type { SimStore } from './store.ts';
import type { Condition, JsonObject, Lifecycle, Locator, RepositoryRecord, RevisionRecord } from './types.ts';

/** A PackageRevision as served (docs/porch.md §PackageRevision). */
export interface PackageRevisionObject {
  kind: 'PackageRevision';
  apiVersion: string;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion: string;
    creationTimestamp: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: JsonObject[];
    finalizers?: string[];
  };
  spec: {
    packageName: string;
    repository: string;
    workspaceName: string;
    revision?: number;
    lifecycle: Lifecycle;
    tasks?: JsonObject[];
    readinessGates?: Array<{ conditionType: string }>;
    packageMetadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  };
  status: {
    upstreamLock: Locator;
    selfLock?: Locator;
    publishedBy?: string;
    publishTimestamp: string | null;
    deployment?: boolean;
    conditions?: Condition[];
  };
}

export const PORCH_API_VERSION = 'porch.kpt.dev/v1alpha1';
export const CONFIG_API_VERSION = 'config.porch.kpt.dev/v1alpha1';

function nonEmpty<T extends object>(value: T | undefined): value is T {
  return value !== undefined && Object.keys(value).length > 0;
}

function selfLock(record: RevisionRecord, repo: RepositoryRecord | undefined): Locator | undefined {
  if (repo === undefined) return undefined;
  let ref: string;
  if (record.placeholder) ref = repo.branch;
  else if (record.lifecycle === 'Draft') ref = `drafts/${record.packageName}/${record.workspaceName}`;
  else if (record.lifecycle === 'Proposed') ref = `proposed/${record.packageName}/${record.workspaceName}`;
  else ref = `${record.packageName}/v${record.revision}`;
  return {
    type: 'git',
    git: { repo: repo.gitRepo, directory: record.packageName, ref, commit: record.resourceVersion },
  };
}

export function packageRevisionJson(store: SimStore, record: RevisionRecord): PackageRevisionObject {
  const facts = kptfileFacts(record.files[KPTFILE]);
  const labels = store.servedLabels(record);
  const metadata: JsonObject = {
    name: record.name,
    namespace: record.namespace,
    uid: record.uid,
    resourceVersion: record.resourceVersion,
    creationTimestamp: record.creationTimestamp,
  };
  if (nonEmpty(labels)) metadata['labels'] = { ...labels };
  if (nonEmpty(record.annotations)) metadata['annotations'] = { ...record.annotations };
  if (record.ownerReferences.length > 0) metadata['ownerReferences'] = structuredClone(record.ownerReferences);
  if (record.finalizers.length > 0) metadata['finalizers'] = [...record.finalizers];

  const spec: JsonObject = {
    packageName: record.packageName,
    repository: record.repository,
    workspaceName: record.workspaceName,
  };
  // revision is omitempty: a Draft/Proposed revision (0) has no revision key (docs/porch.md §Sharp edges item 8).
  if (record.revision !== 0) spec['revision'] = record.revision;
  spec['lifecycle'] = record.lifecycle;
  if (record.tasks.length > 0) spec['tasks'] = structuredClone(record.tasks);
  if (facts.readinessGates !== undefined && facts.readinessGates.length > 0) spec['readinessGates'] = facts.readinessGates;
  if (store.compat.packageMetadata && (facts.labels !== undefined || facts.annotations !== undefined)) {
    const packageMetadata: JsonObject = {};
    if (facts.labels !== undefined) packageMetadata['labels'] = { ...facts.labels };
    if (facts.annotations !== undefined) packageMetadata['annotations'] = { ...facts.annotations };
    spec['packageMetadata'] = packageMetadata;
  }

  const repo = store.getRepository(record.namespace, record.repository);
  const status: JsonObject = {
    // Always a (possibly empty) object: Porch converts the Kptfile lock into a non-nil pointer.
    upstreamLock: structuredClone(facts.upstreamLock ?? record.upstreamLock),
  };
  const lock = selfLock(record, repo);
  if (lock !== undefined) status['selfLock'] = lock;
  if (record.publishedBy !== undefined) status['publishedBy'] = record.publishedBy;
  // metav1.Time ignores omitempty: null while unpublished (docs/porch.md §Sharp edges item 12).
  status['publishTimestamp'] = record.publishTimestamp ?? null;
  if (repo?.deployment === true) status['deployment'] = true;
  if (facts.conditions !== undefined && facts.conditions.length > 0) status['conditions'] = facts.conditions;

  return { kind: 'PackageRevision', apiVersion: PORCH_API_VERSION, metadata, spec, status } as unknown as PackageRevisionObject;
}

/** The renderStatus of a successful (or never run) render: always present (docs/porch.md §PackageRevisionResources). */
export function emptyRenderStatus(): JsonObject {
  return { result: { metadata: { creationTimestamp: null }, exitCode: 0 }, error: '' };
}

export function packageRevisionResourcesJson(record: RevisionRecord, renderStatus: JsonObject = emptyRenderStatus()): JsonObject {
  const spec: JsonObject = {
    packageName: record.packageName,
    workspaceName: record.workspaceName,
  };
  if (record.revision !== 0) spec['revision'] = record.revision;
  spec['repository'] = record.repository;
  spec['resources'] = { ...record.files };
  return {
    kind: 'PackageRevisionResources',
    apiVersion: PORCH_API_VERSION,
    metadata: {
      name: record.name,
      namespace: record.namespace,
      uid: record.uid,
      // The same resourceVersion as the PackageRevision (docs/porch.md §PackageRevision, §Sharp edges item 4).
      resourceVersion: record.resourceVersion,
      creationTimestamp: record.creationTimestamp,
    },
    spec,
    status: { renderStatus },
  };
}

export function repositoryJson(repo: RepositoryRecord): JsonObject {
  return {
    apiVersion: CONFIG_API_VERSION,
    kind: 'Repository',
    metadata: {
      ...(repo.v1alpha2 ? { annotations: { 'porch.kpt.dev/v1alpha2-migration': 'true' } } : {}),
      creationTimestamp: repo.creationTimestamp,
      generation: 1,
      name: repo.name,
      namespace: repo.namespace,
      resourceVersion: repo.resourceVersion,
      uid: repo.uid,
    },
    spec: {
      description: repo.description,
      type: repo.type,
      deployment: repo.deployment,
      git: { repo: repo.gitRepo, branch: repo.branch, directory: repo.directory, createBranch: false },
    },
    status: {
      conditions: [
        {
          type: 'Ready',
          status: repo.ready ? 'True' : 'False',
          reason: repo.ready ? 'Ready' : 'Error',
          message: repo.ready ? 'Repository Ready' : 'Repository is not ready',
          lastTransitionTime: repo.creationTimestamp,
          observedGeneration: 1,
        },
      ],
    },
  };
}

/** `packages` items: one per (repository, package) with its latest revision number. */
export function packageJson(namespace: string, name: string, repository: string, packageName: string, latestRevision: number): JsonObject {
  const spec: JsonObject = { packageName, repository };
  const status: JsonObject = {};
  if (latestRevision > 0) status['latestRevision'] = latestRevision;
  return {
    kind: 'PorchPackage',
    apiVersion: PORCH_API_VERSION,
    metadata: { name, namespace, creationTimestamp: null },
    spec,
    status,
  };
}
