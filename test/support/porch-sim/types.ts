// Shared types of the Porch API simulator.
// Shapes follow docs/porch.md §Objects (PackageRevision, PackageRevisionResources, Repository).

export type Lifecycle = 'Draft' | 'Proposed' | 'Published' | 'DeletionProposed';

export const LIFECYCLES: readonly Lifecycle[] = ['Draft', 'Proposed', 'Published', 'DeletionProposed'];

export function isLifecycle(value: string): value is Lifecycle {
  return (LIFECYCLES as readonly string[]).includes(value);
}

/** Published and DeletionProposed both count as "published" (docs/porch.md §Lifecycle, §Simulator state). */
export function isPublishedLifecycle(value: string): boolean {
  return value === 'Published' || value === 'DeletionProposed';
}

export type JsonObject = Record<string, unknown>;

export interface GitLock {
  repo?: string;
  directory?: string;
  ref?: string;
  commit?: string;
}

export interface Locator {
  type?: string;
  git?: GitLock;
}

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** A Repository CR as stored by the simulator (docs/porch.md §Repository, §Simulator state). */
export interface RepositoryRecord {
  namespace: string;
  name: string;
  description: string;
  type: 'git';
  deployment: boolean;
  gitRepo: string;
  branch: string;
  directory: string;
  ready: boolean;
  /** v1alpha2-managed repositories: creates answer 410, items are hidden (docs/porch.md §Versions, §Errors). */
  v1alpha2: boolean;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
}

/** One PackageRevision, with its file map (the PackageRevisionResources share it, docs/porch.md §PackageRevision). */
export interface RevisionRecord {
  namespace: string;
  repository: string;
  /** Full package path as in spec.packageName, e.g. "a/b/c". */
  packageName: string;
  workspaceName: string;
  name: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  lifecycle: Lifecycle;
  /** 0 until published, 1..n after approval, -1 for the main-branch placeholder (docs/porch.md §PackageRevision). */
  revision: number;
  /** Only the creation task is kept (docs/porch.md §PackageRevision). */
  tasks: JsonObject[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  finalizers: string[];
  ownerReferences: JsonObject[];
  files: Record<string, string>;
  publishedBy?: string;
  publishTimestamp?: string;
  /** Upstream lock of cloned packages; init/edit packages have an empty one (docs/porch.md §Creating). */
  upstreamLock: Locator;
  placeholder: boolean;
  /** Name of the PackageRevision this one was cloned from (for the "referenced as upstream" 403). */
  clonedFrom?: string;
}

export type WriteOperation = 'create' | 'update' | 'approval' | 'update-resources' | 'delete';

/** One applied write, kept so that tests can inspect history per workspace. */
export interface WriteRecord {
  sequence: number;
  operation: WriteOperation;
  namespace: string;
  repository: string;
  packageName: string;
  workspaceName: string;
  name: string;
  lifecycleBefore?: Lifecycle;
  lifecycleAfter?: Lifecycle;
  resourceVersion?: string;
  /** True when the response of this write was then replaced by an injected failure. */
  responseLost: boolean;
  at: string;
}

export interface RequestRecord {
  sequence: number;
  method: string;
  path: string;
  query: string;
  status: number;
  traceparent?: string;
  fault?: FaultKind;
}

export type FaultKind = 'drop' | 'rate-limit' | 'server-error' | 'apply-then-fail';

/** An RBAC rule that denies requests (and answers allowed:false in SelfSubjectAccessReviews). Unset fields match anything. */
export interface DenyRule {
  verb?: string;
  group?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

/** Behaviour switches for the version matrix of docs/porch.md §Versions. Defaults are current Porch HEAD. */
export interface CompatOptions {
  /** v1.5.6+ (2025-12): `init` of an existing package is 500. Older: allowed. */
  rejectInitOfExistingPackage: boolean;
  /** 2026-04+: render adds status.conditions Rendered to the Kptfile. */
  renderedCondition: boolean;
  /** 2026-01+: spec.packageMetadata mirrors Kptfile labels/annotations. */
  packageMetadata: boolean;
}
