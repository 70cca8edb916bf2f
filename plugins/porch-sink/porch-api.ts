// The Porch calls the flow needs, on the real REST surface (docs/porch.md §Resources, §Objects): paths, kinds
// and the few fields we read. Objects are kept whole as the server sent them, because a PUT must
// send the object back with only the intended change (docs/porch.md §Lifecycle "omitting spec.lifecycle
// … silently rejects the proposal").
import type { KubeClient } from './client.ts';

export const PORCH_API = '/apis/porch.kpt.dev/v1alpha1';
export const CONFIG_API = '/apis/config.porch.kpt.dev/v1alpha1';

export type Lifecycle = 'Draft' | 'Proposed' | 'Published' | 'DeletionProposed';

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

export interface PackageRevision {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: {
    packageName: string;
    repository: string;
    workspaceName: string;
    revision?: number;
    lifecycle?: Lifecycle;
    tasks?: unknown[];
    [key: string]: unknown;
  };
  status?: Record<string, unknown>;
}

export interface PackageRevisionResources {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: { resources?: Record<string, string> | null; [key: string]: unknown };
  status?: { renderStatus?: { error?: string } };
}

interface List<T> {
  items: T[] | null;
}

/** Where one intent's revision lives. */
export interface Coordinates {
  namespace: string;
  repository: string;
  packageName: string;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
  traceparent?: string | undefined;
}

const call = (options: CallOptions) => ({
  ...(options.signal === undefined ? {} : { signal: options.signal }),
  ...(options.traceparent === undefined ? {} : { traceparent: options.traceparent }),
});

export class PorchApi {
  readonly client: KubeClient;
  constructor(client: KubeClient) {
    this.client = client;
  }

  #revisions(namespace: string): string {
    return `${PORCH_API}/namespaces/${encodeURIComponent(namespace)}/packagerevisions`;
  }

  /**
   * Every revision of one package, found by spec fields (docs/porch.md §Idempotency): the server filters
   * with field selectors, and we filter again, because a selector the server cannot parse may
   * silently match everything (the metadata.name quirk, docs/porch.md §Listing).
   */
  async listPackageRevisions(at: Coordinates, options: CallOptions): Promise<PackageRevision[]> {
    const list = await this.client.request<List<PackageRevision>>({
      method: 'GET',
      path: this.#revisions(at.namespace),
      query: { fieldSelector: `spec.repository=${at.repository},spec.packageName=${at.packageName}` },
      ...call(options),
    });
    return (list.items ?? []).filter(
      (item) =>
        item.spec?.repository === at.repository &&
        item.spec?.packageName === at.packageName &&
        (item.metadata?.namespace ?? at.namespace) === at.namespace,
    );
  }

  createRevision(namespace: string, body: unknown, options: CallOptions): Promise<PackageRevision> {
    return this.client.request({ method: 'POST', path: this.#revisions(namespace), body, ...call(options) });
  }

  /** PUT of the whole object (with its resourceVersion) on the main resource. */
  updateRevision(revision: PackageRevision, options: CallOptions): Promise<PackageRevision> {
    const { namespace, name } = revision.metadata;
    return this.client.request({
      method: 'PUT',
      path: `${this.#revisions(namespace!)}/${encodeURIComponent(name!)}`,
      body: revision,
      ...call(options),
    });
  }

  /** Publishing happens only through the approval subresource (docs/porch.md §Lifecycle, §Sharp edges item 5). */
  approveRevision(revision: PackageRevision, options: CallOptions): Promise<PackageRevision> {
    const { namespace, name } = revision.metadata;
    return this.client.request({
      method: 'PUT',
      path: `${this.#revisions(namespace!)}/${encodeURIComponent(name!)}/approval`,
      body: revision,
      ...call(options),
    });
  }

  /**
   * DELETE of a Draft or Proposed revision (a Published one answers 403, docs/porch.md §Deleting).
   * Porch ignores preconditions (§Idempotency), so the caller must be sure from a fresh view.
   */
  deleteRevision(namespace: string, name: string, options: CallOptions): Promise<PackageRevision> {
    const path = `${this.#revisions(namespace)}/${encodeURIComponent(name)}`;
    return this.client.request({ method: 'DELETE', path, ...call(options) });
  }

  getResources(namespace: string, name: string, options: CallOptions): Promise<PackageRevisionResources> {
    return this.client.request({
      method: 'GET',
      path: `${PORCH_API}/namespaces/${encodeURIComponent(namespace)}/packagerevisionresources/${encodeURIComponent(name)}`,
      ...call(options),
    });
  }

  /** A full replacement of the file map, conditional on the resourceVersion (docs/porch.md §Writing resources). */
  putResources(resources: PackageRevisionResources, options: CallOptions): Promise<PackageRevisionResources> {
    const { namespace, name } = resources.metadata;
    return this.client.request({
      method: 'PUT',
      path: `${PORCH_API}/namespaces/${encodeURIComponent(namespace!)}/packagerevisionresources/${encodeURIComponent(name!)}`,
      body: resources,
      ...call(options),
    });
  }

  getRepository(
    namespace: string,
    name: string,
    options: CallOptions,
  ): Promise<{ status?: { conditions?: { type?: string; status?: string; message?: string }[] } }> {
    return this.client.request({
      method: 'GET',
      path: `${CONFIG_API}/namespaces/${encodeURIComponent(namespace)}/repositories/${encodeURIComponent(name)}`,
      ...call(options),
    });
  }

  discovery(options: CallOptions): Promise<{ resources?: { name?: string }[] }> {
    return this.client.request({ method: 'GET', path: PORCH_API, ...call(options) });
  }

  /** May the caller do `verb` on `resource`? (SelfSubjectAccessReview, authorization.k8s.io/v1) */
  async accessReview(
    attributes: { namespace: string; verb: string; group: string; resource: string; subresource?: string },
    options: CallOptions,
  ): Promise<{ allowed: boolean; reason?: string }> {
    const review = await this.client.request<{ status?: { allowed?: boolean; denied?: boolean; reason?: string } }>({
      method: 'POST',
      path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: attributes } },
      ...call(options),
    });
    return { allowed: review.status?.allowed === true, ...(review.status?.reason ? { reason: review.status.reason } : {}) };
  }
}
