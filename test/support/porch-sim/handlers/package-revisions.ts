// packagerevisions: list, get, create and delete (docs/porch.md §Resources, §Requests, §Simulator endpoints items 2–4
// and 8).

import type { HandlerContext } from '../context.ts';
import { decodeRevision } from '../decode.ts';
import { jsonResponse, parseBody, unknownFieldWarnings } from '../http.ts';
import type { SimRequest, SimResponse } from '../http.ts';
import {
  PACKAGE_REVISIONS,
  REPOSITORIES,
  badRequest,
  conflict,
  fieldForbidden,
  fieldInvalid,
  forbidden,
  gone,
  invalid,
  notFound,
  unknownServerError,
} from '../k8s-status.ts';
import type { FieldError } from '../k8s-status.ts';
import { dns1123LabelErrors, directoryNameError, splitPackagePath } from '../naming.ts';
import { PORCH_API_VERSION, packageRevisionJson } from '../representation.ts';
import { buildRevisionFilter, parseFieldSelector, parseLabelSelector } from '../selectors.ts';
import type { RevisionFilter } from '../selectors.ts';
import { LATEST_REVISION_LABEL } from '../store.ts';
import type { RevisionRecord } from '../types.ts';
import { buildNewRevisionContent } from './creation-tasks.ts';
import { findRevision, requireRepository } from './lookup.ts';

export interface CollectionRoute {
  namespace: string;
}

export interface ItemRoute {
  namespace: string;
  name: string;
}

/** Key, lifecycle and Kptfile-label part of a list filter (docs/porch.md §Listing). */
export function matchesFilter(ctx: HandlerContext, record: RevisionRecord, filter: RevisionFilter): boolean {
  if (filter.namespace !== '' && record.namespace !== filter.namespace) return false;
  if (filter.repository !== '' && record.repository !== filter.repository) return false;
  const { path, leaf } = splitPackagePath(record.packageName);
  if (filter.path !== '' && path !== filter.path) return false;
  if (filter.leaf !== '' && leaf !== filter.leaf) return false;
  if (filter.workspaceName !== '' && record.workspaceName !== filter.workspaceName) return false;
  if (filter.revision !== 0 && record.revision !== filter.revision) return false;
  if (filter.lifecycles.length > 0 && !filter.lifecycles.includes(record.lifecycle)) return false;
  const wanted = Object.entries(filter.kptfileLabels);
  if (wanted.length > 0) {
    const labels = packageRevisionJson(ctx.store, record).spec.packageMetadata?.labels;
    if (labels === undefined) return false;
    if (wanted.some(([k, v]) => labels[k] !== v)) return false;
  }
  return true;
}

/** Records a list request selects, in a stable order; v1alpha2 repositories are skipped. */
export function selectRevisions(ctx: HandlerContext, request: SimRequest, namespace: string): RevisionRecord[] {
  if (request.query.get('watch') === 'true' || request.query.get('watch') === '1') {
    throw unknownServerError('porch-sim: watch is not simulated');
  }
  const filter = buildRevisionFilter(parseFieldSelector(request.query.get('fieldSelector') ?? ''), namespace);
  const labelSelector = parseLabelSelector(request.query.get('labelSelector') ?? '');
  return ctx.store
    .allRevisions()
    .filter((r) => ctx.store.getRepository(r.namespace, r.repository)?.v1alpha2 !== true)
    .filter((r) => matchesFilter(ctx, r, filter) && labelSelector.matches(ctx.store.servedLabels(r)))
    .sort((a, b) => (a.namespace === b.namespace ? a.name.localeCompare(b.name) : a.namespace.localeCompare(b.namespace)));
}

/** List: no pagination, no list resourceVersion, `items: null` when empty (docs/porch.md §Resources, §Sharp edges item
 * 11). */
export function listPackageRevisions(ctx: HandlerContext, request: SimRequest, route: CollectionRoute): SimResponse {
  const items = selectRevisions(ctx, request, route.namespace).map((r) => packageRevisionJson(ctx.store, r));
  return jsonResponse(200, {
    kind: 'PackageRevisionList',
    apiVersion: PORCH_API_VERSION,
    metadata: {},
    items: items.length === 0 ? null : items,
  });
}

export function getPackageRevision(ctx: HandlerContext, route: ItemRoute): SimResponse {
  return jsonResponse(200, packageRevisionJson(ctx.store, findRevision(ctx, route.namespace, route.name)));
}

/** The create strategy (docs/porch.md §Lifecycle, "Create accepts only "" or Draft"; §PackageRevision reserved label).
 * */
function validateCreate(decoded: ReturnType<typeof decodeRevision>): FieldError[] {
  const errors: FieldError[] = [];
  if (decoded.metadata.labels !== undefined && Object.hasOwn(decoded.metadata.labels, LATEST_REVISION_LABEL)) {
    errors.push(fieldForbidden(`metadata.labels.${LATEST_REVISION_LABEL}`, 'label is managed by porch and cannot be set by users'));
  }
  const packageNameError = directoryNameError(decoded.spec.packageName, true);
  if (packageNameError !== undefined) errors.push(fieldInvalid('spec.packageName', decoded.spec.packageName, packageNameError));
  const workspaceErrors = dns1123LabelErrors(decoded.spec.workspaceName);
  if (workspaceErrors.length > 0) {
    errors.push(fieldInvalid('spec.workspaceName', decoded.spec.workspaceName, workspaceErrors.join(',')));
  }
  if (decoded.spec.lifecycle !== '' && decoded.spec.lifecycle !== 'Draft') {
    errors.push(fieldInvalid('spec.lifecycle', decoded.spec.lifecycle, 'value can be only created as Draft'));
  }
  return errors;
}

/**
 * POST: checks in the real order (docs/porch.md §Simulator endpoints item 2). The name is computed by the server;
 * metadata.name and generateName are ignored (§Sharp edges item 1).
 */
export async function createPackageRevision(ctx: HandlerContext, request: SimRequest, route: CollectionRoute): Promise<SimResponse> {
  const decoded = decodeRevision(parseBody(request));
  const namespace = route.namespace;
  if (decoded.metadata.namespace !== '' && decoded.metadata.namespace !== namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  const spec = decoded.spec;
  // The JSON key is spec.repository, but the message names the Go field (docs/porch.md §Sharp edges item 17).
  if (spec.repository === '') throw badRequest('spec.repositoryName is required');
  const repo = ctx.store.getRepository(namespace, spec.repository);
  if (repo === undefined) throw notFound(REPOSITORIES, spec.repository);
  if (repo.v1alpha2) throw gone(`repository "${repo.name}" is managed by v1alpha2; use the v1alpha2 API`);
  const errors = validateCreate(decoded);
  if (errors.length > 0) throw invalid('porch.kpt.dev', 'PackageRevision', decoded.metadata.name, errors);
  if (spec.parent !== undefined && spec.parent.name !== '' && ctx.store.getRevision(namespace, spec.parent.name) === undefined) {
    throw unknownServerError(
      `cannot get parent package "${spec.parent.name}": packagerevisions.porch.kpt.dev "${spec.parent.name}" not found`,
    );
  }

  const lockKey = `${namespace}-${spec.repository}-${spec.packageName}-${spec.workspaceName}`;
  if (!ctx.locks.tryAcquire(lockKey)) {
    throw conflict(
      PACKAGE_REVISIONS,
      '(new creation)',
      `another request is already in progress to create package revision with details namespace="${namespace}", repository="${spec.repository}", package="${spec.packageName}",workspace="${spec.workspaceName}"`,
    );
  }
  try {
    await ctx.gate.pass();
    const content = buildNewRevisionContent(ctx, namespace, repo, decoded);
    const labels = { ...decoded.metadata.labels };
    const record = ctx.store.insertRevision({
      namespace,
      repository: repo.name,
      packageName: spec.packageName,
      workspaceName: spec.workspaceName,
      resourceVersion: ctx.store.newResourceVersion(),
      creationTimestamp: ctx.store.timestamp(),
      lifecycle: 'Draft',
      revision: 0,
      tasks: [content.task],
      labels,
      annotations: { ...decoded.metadata.annotations },
      finalizers: [...(decoded.metadata.finalizers ?? [])],
      ownerReferences: structuredClone(decoded.metadata.ownerReferences ?? []),
      files: content.files,
      upstreamLock: {},
      placeholder: false,
      ...(content.clonedFrom === undefined ? {} : { clonedFrom: content.clonedFrom }),
    });
    ctx.store.recordWrite('create', record, undefined);
    return jsonResponse(201, packageRevisionJson(ctx.store, record), unknownFieldWarnings(decoded.unknownFields));
  } finally {
    ctx.locks.release(lockKey);
  }
}

/**
 * DELETE: 404, then 403 for Published, then 403 when referenced as an upstream, then the 409
 * lock; 200 with the object as it was (docs/porch.md §Simulator endpoints item 8, §Sharp edges item 10). DeleteOptions,
 * preconditions and dryRun are ignored.
 */
export async function deletePackageRevision(ctx: HandlerContext, route: ItemRoute): Promise<SimResponse> {
  const record = findRevision(ctx, route.namespace, route.name);
  if (record.lifecycle === 'Published') {
    throw forbidden(
      PACKAGE_REVISIONS,
      route.name,
      "published PackageRevisions must be proposed for deletion by setting spec.lifecycle to 'DeletionProposed' prior to deletion",
    );
  }
  requireRepository(ctx, route.namespace, record.repository);
  const downstream = ctx.store
    .allRevisions()
    .filter((r) => r.namespace === route.namespace && r.clonedFrom === record.name)
    .map((r) => r.name);
  if (downstream.length > 0) {
    throw forbidden(
      PACKAGE_REVISIONS,
      record.name,
      `cannot delete package revision, it is referenced as upstream by: ${downstream.join(', ')}`,
    );
  }
  const lockKey = `${route.namespace}/${route.name}`;
  if (!ctx.locks.tryAcquire(lockKey)) {
    throw conflict(PACKAGE_REVISIONS, route.name, `another request is already in progress on package revision "${lockKey}"`);
  }
  try {
    const before = packageRevisionJson(ctx.store, record);
    await ctx.gate.pass();
    ctx.store.removeRevision(record);
    ctx.store.recordWrite('delete', record, record.lifecycle);
    if (!record.placeholder) ctx.store.refreshPlaceholder(record.namespace, record.repository, record.packageName);
    return jsonResponse(200, before);
  } finally {
    ctx.locks.release(lockKey);
  }
}
