// In-memory state of the simulated Porch: repositories, package revisions with their files,
// the computed "latest" label and main-branch placeholders (docs/porch.md §Simulator state), plus the
// history of applied writes that tests inspect.

import { composeRevisionName } from './naming.ts';
import { commitShaSequence } from './random.ts';
import { packageRevisionUid, porchUid } from './uid.ts';
import { isPublishedLifecycle } from './types.ts';
import type { CompatOptions, RepositoryRecord, RevisionRecord, WriteOperation, WriteRecord } from './types.ts';

export const LATEST_REVISION_LABEL = 'kpt.dev/latest-revision';

/** RFC 3339 with second precision, as metav1.Time serialises. */
export function formatTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

function revisionKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function packageKey(namespace: string, repository: string, packageName: string): string {
  return `${namespace}/${repository}/${packageName}`;
}

export interface RepositoryInput {
  name: string;
  namespace?: string;
  description?: string;
  deployment?: boolean;
  gitRepo?: string;
  branch?: string;
  directory?: string;
  ready?: boolean;
  v1alpha2?: boolean;
}

export interface StoreOptions {
  seed: number;
  now: () => Date;
  defaultNamespace: string;
  compat: CompatOptions;
}

export class SimStore {
  readonly compat: CompatOptions;
  readonly defaultNamespace: string;
  private readonly now: () => Date;
  private readonly nextSha: () => string;
  private readonly repositories = new Map<string, RepositoryRecord>();
  private readonly revisions = new Map<string, RevisionRecord>();
  private readonly byPackage = new Map<string, Set<RevisionRecord>>();
  private readonly writeLog: WriteRecord[] = [];
  private readonly writeListeners = new Set<(write: WriteRecord) => void>();
  private repositoryVersion = 1000;

  constructor(options: StoreOptions) {
    this.compat = options.compat;
    this.defaultNamespace = options.defaultNamespace;
    this.now = options.now;
    this.nextSha = commitShaSequence(options.seed);
  }

  timestamp(): string {
    return formatTime(this.now());
  }

  newResourceVersion(): string {
    return this.nextSha();
  }

  // ---- repositories ----

  putRepository(input: RepositoryInput): RepositoryRecord {
    const namespace = input.namespace ?? this.defaultNamespace;
    this.repositoryVersion += 1;
    const record: RepositoryRecord = {
      namespace,
      name: input.name,
      description: input.description ?? `${input.name} repository`,
      type: 'git',
      deployment: input.deployment ?? false,
      gitRepo: input.gitRepo ?? `https://git.example/${input.name}.git`,
      branch: input.branch ?? 'main',
      directory: input.directory ?? '/',
      ready: input.ready ?? true,
      v1alpha2: input.v1alpha2 ?? false,
      uid: porchUid('repositories.', namespace, input.name),
      resourceVersion: String(this.repositoryVersion),
      creationTimestamp: this.timestamp(),
    };
    this.repositories.set(revisionKey(namespace, input.name), record);
    return record;
  }

  getRepository(namespace: string, name: string): RepositoryRecord | undefined {
    return this.repositories.get(revisionKey(namespace, name));
  }

  listRepositories(namespace?: string): RepositoryRecord[] {
    return [...this.repositories.values()]
      .filter((r) => namespace === undefined || namespace === '' || r.namespace === namespace)
      .sort((a, b) => (a.namespace + a.name).localeCompare(b.namespace + b.name));
  }

  repositoryListVersion(): string {
    return String(this.repositoryVersion);
  }

  // ---- package revisions ----

  getRevision(namespace: string, name: string): RevisionRecord | undefined {
    return this.revisions.get(revisionKey(namespace, name));
  }

  allRevisions(): RevisionRecord[] {
    return [...this.revisions.values()];
  }

  revisionsOfPackage(namespace: string, repository: string, packageName: string): RevisionRecord[] {
    return [...(this.byPackage.get(packageKey(namespace, repository, packageName)) ?? [])];
  }

  revisionsOfRepository(namespace: string, repository: string): RevisionRecord[] {
    return this.allRevisions().filter((r) => r.namespace === namespace && r.repository === repository);
  }

  /** Insert a new record; uid and name are derived (docs/porch.md §PackageRevision, §Names). */
  insertRevision(record: Omit<RevisionRecord, 'name' | 'uid'>): RevisionRecord {
    const name = composeRevisionName(record.repository, record.packageName, record.workspaceName);
    const full: RevisionRecord = { ...record, name, uid: packageRevisionUid(record.namespace, name) };
    this.revisions.set(revisionKey(full.namespace, name), full);
    const key = packageKey(full.namespace, full.repository, full.packageName);
    let set = this.byPackage.get(key);
    if (set === undefined) {
      set = new Set();
      this.byPackage.set(key, set);
    }
    set.add(full);
    return full;
  }

  removeRevision(record: RevisionRecord): void {
    this.revisions.delete(revisionKey(record.namespace, record.name));
    const key = packageKey(record.namespace, record.repository, record.packageName);
    const set = this.byPackage.get(key);
    set?.delete(record);
    if (set !== undefined && set.size === 0) this.byPackage.delete(key);
  }

  /** The highest revision > 0 among published revisions of the package (docs/porch.md §Simulator state). */
  maxPublishedRevision(namespace: string, repository: string, packageName: string): number {
    let max = 0;
    for (const r of this.byPackage.get(packageKey(namespace, repository, packageName)) ?? []) {
      if (!r.placeholder && isPublishedLifecycle(r.lifecycle) && r.revision > max) max = r.revision;
    }
    return max;
  }

  /** `kpt.dev/latest-revision` is computed, never stored (docs/porch.md §PackageRevision, §Sharp edges item 9). */
  isLatest(record: RevisionRecord): boolean {
    if (record.placeholder || !isPublishedLifecycle(record.lifecycle) || record.revision <= 0) return false;
    return record.revision === this.maxPublishedRevision(record.namespace, record.repository, record.packageName);
  }

  /** Labels as served: stored labels plus the computed latest-revision label. */
  servedLabels(record: RevisionRecord): Record<string, string> {
    if (!this.isLatest(record)) return record.labels;
    return { ...record.labels, [LATEST_REVISION_LABEL]: 'true' };
  }

  /**
   * Create, refresh or remove `<repo>.<pkg>.<branch>` (revision -1, Published), which mirrors the
   * latest published revision (docs/porch.md §Names, §Simulator endpoints item 7). Real Porch does this
   * asynchronously; the simulator does it at once so list queries see it right away.
   */
  refreshPlaceholder(namespace: string, repository: string, packageName: string): void {
    const repo = this.getRepository(namespace, repository);
    if (repo === undefined) return;
    const revisions = this.revisionsOfPackage(namespace, repository, packageName);
    const existing = revisions.find((r) => r.placeholder);
    const latest = revisions
      .filter((r) => !r.placeholder && isPublishedLifecycle(r.lifecycle) && r.revision > 0)
      .sort((a, b) => b.revision - a.revision)[0];
    if (latest === undefined) {
      if (existing !== undefined) this.removeRevision(existing);
      return;
    }
    if (existing !== undefined) {
      if (existing.files === latest.files && existing.publishTimestamp === latest.publishTimestamp) return;
      existing.files = latest.files;
      existing.tasks = latest.tasks;
      existing.publishedBy = latest.publishedBy;
      existing.publishTimestamp = latest.publishTimestamp;
      existing.resourceVersion = this.newResourceVersion();
      return;
    }
    const name = composeRevisionName(repository, packageName, repo.branch);
    if (this.getRevision(namespace, name) !== undefined) return; // a client workspace already uses the branch name
    this.insertRevision({
      namespace,
      repository,
      packageName,
      workspaceName: repo.branch,
      resourceVersion: this.newResourceVersion(),
      creationTimestamp: this.timestamp(),
      lifecycle: 'Published',
      revision: -1,
      tasks: latest.tasks,
      labels: {},
      annotations: {},
      finalizers: [],
      ownerReferences: [],
      files: latest.files,
      ...(latest.publishedBy === undefined ? {} : { publishedBy: latest.publishedBy }),
      ...(latest.publishTimestamp === undefined ? {} : { publishTimestamp: latest.publishTimestamp }),
      upstreamLock: {},
      placeholder: true,
    });
  }

  // ---- write history ----

  recordWrite(operation: WriteOperation, record: RevisionRecord, lifecycleBefore: RevisionRecord['lifecycle'] | undefined): WriteRecord {
    const entry: WriteRecord = {
      sequence: this.writeLog.length + 1,
      operation,
      namespace: record.namespace,
      repository: record.repository,
      packageName: record.packageName,
      workspaceName: record.workspaceName,
      name: record.name,
      ...(lifecycleBefore === undefined ? {} : { lifecycleBefore }),
      ...(operation === 'delete' ? {} : { lifecycleAfter: record.lifecycle, resourceVersion: record.resourceVersion }),
      responseLost: false,
      at: this.timestamp(),
    };
    this.writeLog.push(entry);
    for (const listener of this.writeListeners) listener({ ...entry });
    return entry;
  }

  /**
   * Calls `listener` with each write as it is applied, before its answer leaves the server, so a
   * test can act at an exact point of a client's flow (another writer publishing, say).
   */
  onWrite(listener: (write: WriteRecord) => void): () => void {
    this.writeListeners.add(listener);
    return () => void this.writeListeners.delete(listener);
  }

  writes(): WriteRecord[] {
    return this.writeLog.map((w) => ({ ...w }));
  }

  /** Mark writes as "applied but the client never saw the answer" (apply-then-fail faults). */
  markResponseLost(fromSequence: number): void {
    for (const w of this.writeLog) if (w.sequence > fromSequence) w.responseLost = true;
  }

  writeSequence(): number {
    return this.writeLog.length;
  }
}
