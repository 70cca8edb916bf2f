// Seeding: repositories and existing (normally Published) packages, as if they were already in
// git when the simulator started. Seeds are stored verbatim (no render) and are not client writes.

import type { RepositoryInput, SimStore } from './store.ts';
import { isPublishedLifecycle } from './types.ts';
import type { JsonObject, Lifecycle, RevisionRecord } from './types.ts';

export interface SeedPackage {
  repository: string;
  packageName: string;
  namespace?: string;
  /** Defaults to `v<revision>` for published packages and `seed` otherwise. */
  workspaceName?: string;
  /** Default Published. */
  lifecycle?: Lifecycle;
  /** Published default: the next free revision of the package. */
  revision?: number;
  resources: Record<string, string>;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  tasks?: JsonObject[];
}

export interface SeedInput {
  repositories?: RepositoryInput[];
  packages?: SeedPackage[];
}

export function applySeed(store: SimStore, input: SeedInput, userName: string): RevisionRecord[] {
  for (const repo of input.repositories ?? []) store.putRepository(repo);
  const inserted: RevisionRecord[] = [];
  for (const pkg of input.packages ?? []) {
    const namespace = pkg.namespace ?? store.defaultNamespace;
    if (store.getRepository(namespace, pkg.repository) === undefined) {
      throw new Error(`porch-sim seed: repository ${namespace}/${pkg.repository} must be seeded before its packages`);
    }
    const lifecycle = pkg.lifecycle ?? 'Published';
    const published = isPublishedLifecycle(lifecycle);
    const revision = pkg.revision ?? (published ? store.maxPublishedRevision(namespace, pkg.repository, pkg.packageName) + 1 : 0);
    const record = store.insertRevision({
      namespace,
      repository: pkg.repository,
      packageName: pkg.packageName,
      workspaceName: pkg.workspaceName ?? (published ? `v${revision}` : 'seed'),
      resourceVersion: store.newResourceVersion(),
      creationTimestamp: store.timestamp(),
      lifecycle,
      revision,
      tasks: pkg.tasks ?? [{ type: 'init', init: { description: `${pkg.packageName} description` } }],
      labels: { ...pkg.labels },
      annotations: { ...pkg.annotations },
      finalizers: [],
      ownerReferences: [],
      files: { ...pkg.resources },
      ...(published ? { publishedBy: userName, publishTimestamp: store.timestamp() } : {}),
      upstreamLock: {},
      placeholder: false,
    });
    inserted.push(record);
    if (published) store.refreshPlaceholder(namespace, pkg.repository, pkg.packageName);
  }
  return inserted;
}
