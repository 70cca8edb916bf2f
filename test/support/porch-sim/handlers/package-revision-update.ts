// PUT/PATCH of packagerevisions/{name} and of its approval subresource: the two update
// strategies, the hand-written resourceVersion check, and the lifecycle engine
// (docs/porch.md §Lifecycle, §Stale resourceVersion, §Simulator endpoints items 6–7, §Sharp edges items 3, 5, 6, 8, 9).

import type { HandlerContext } from '../context.ts';
import { decodeRevision, semanticNormalize } from '../decode.ts';
import type { DecodedRevision } from '../decode.ts';
import { jsonResponse, parseBody, unknownFieldWarnings } from '../http.ts';
import type { SimRequest, SimResponse } from '../http.ts';
import {
  PACKAGE_REVISIONS,
  conflict,
  fieldForbidden,
  fieldInvalid,
  gone,
  internalError,
  invalid,
  unsupportedMediaType,
} from '../k8s-status.ts';
import type { FieldError } from '../k8s-status.ts';
import { KPTFILE, applyMetadataToKptfile, renderPackage } from '../kptfile.ts';
import { JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, applyPatch } from '../patch.ts';
import { packageRevisionJson } from '../representation.ts';
import { LATEST_REVISION_LABEL } from '../store.ts';
import { isLifecycle, isPublishedLifecycle } from '../types.ts';
import type { JsonObject, Lifecycle, RevisionRecord } from '../types.ts';
import { checkNameAndNamespace, findRevision, requireRepository } from './lookup.ts';
import type { ItemRoute } from './package-revisions.ts';

export type UpdateMode = 'main' | 'approval';

const OPTIMISTIC_LOCK_MESSAGE = 'the object has been modified; please apply your changes to the latest version and try again';
export const PATCH_TYPES = [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH];

/** The main resource's update strategy (docs/porch.md §Lifecycle, first column). */
function validateMainUpdate(old: DecodedRevision, next: DecodedRevision): FieldError[] {
  const errors: FieldError[] = [];
  const oldLatest = old.metadata.labels?.[LATEST_REVISION_LABEL] ?? '';
  const newLatest = next.metadata.labels?.[LATEST_REVISION_LABEL] ?? '';
  if (oldLatest !== newLatest) {
    errors.push(fieldForbidden(`metadata.labels.${LATEST_REVISION_LABEL}`, 'label is managed by porch and cannot be modified by users'));
  }
  const newLifecycle = next.spec.lifecycle;
  if (newLifecycle !== '' && !isLifecycle(newLifecycle)) {
    errors.push(fieldInvalid('spec.lifecycle', newLifecycle, 'value can be only updated to Draft,Proposed,Published,DeletionProposed'));
  }
  const oldLifecycle = old.spec.lifecycle;
  if (oldLifecycle === 'Draft' || oldLifecycle === 'Proposed') {
    if (newLifecycle !== 'Draft' && newLifecycle !== 'Proposed' && newLifecycle !== '') {
      // The real strategy quotes the OLD lifecycle here (docs/porch.md §Lifecycle).
      errors.push(fieldInvalid('spec.lifecycle', oldLifecycle, 'value can be only updated to Draft,Proposed'));
    }
  } else if (isPublishedLifecycle(oldLifecycle)) {
    // Only the Published <-> DeletionProposed toggle and metadata may change.
    const comparable = { ...next.spec, lifecycle: isPublishedLifecycle(newLifecycle) ? oldLifecycle : newLifecycle };
    if (JSON.stringify(semanticNormalize(old.spec)) !== JSON.stringify(semanticNormalize(comparable))) {
      errors.push({
        type: 'FieldValueInvalid',
        field: 'spec',
        renderedValue: goStructValue(next.spec),
        detail: 'spec can only update package with lifecycle value one of Draft,Proposed',
      });
    }
  }
  return errors;
}

/** An approximation of Go's %#v for the spec struct in the 422 text. */
function goStructValue(spec: DecodedRevision['spec']): string {
  return (
    `v1alpha1.PackageRevisionSpec{PackageName:${JSON.stringify(spec.packageName)}, RepositoryName:${JSON.stringify(spec.repository)}, ` +
    `WorkspaceName:${JSON.stringify(spec.workspaceName)}, Revision:${spec.revision}, Lifecycle:${JSON.stringify(spec.lifecycle)}, ...}`
  );
}

/** The approval subresource's strategy (docs/porch.md §Lifecycle, second column). */
function validateApproval(old: DecodedRevision, next: DecodedRevision): FieldError[] {
  const errors: FieldError[] = [];
  const oldLifecycle = old.spec.lifecycle;
  const newLifecycle = next.spec.lifecycle;
  switch (oldLifecycle) {
    case 'Published':
      if (newLifecycle !== 'DeletionProposed') {
        errors.push(
          fieldInvalid('spec.lifecycle', oldLifecycle, "package with Published lifecycle value can only be updated to 'ProposeDeletion'"),
        );
      }
      break;
    case 'DeletionProposed':
      if (newLifecycle !== 'Published') {
        errors.push(
          fieldInvalid('spec.lifecycle', oldLifecycle, "package with DeletionProposed lifecycle value can only be updated to 'Published'"),
        );
      }
      break;
    case 'Proposed':
      break;
    default:
      errors.push(
        fieldInvalid(
          'spec.lifecycle',
          oldLifecycle,
          `cannot approve package with ${oldLifecycle} lifecycle value; only Proposed packages can be approved`,
        ),
      );
  }
  switch (newLifecycle) {
    case 'Draft':
    case 'Published':
      break;
    case 'DeletionProposed':
      if (oldLifecycle !== 'Published') {
        errors.push(
          fieldInvalid(
            'spec.lifecycle',
            newLifecycle,
            'cannot update lifecycle DeletionProposed; only Published packages require approval for deletion',
          ),
        );
      }
      break;
    default:
      errors.push(fieldInvalid('spec.lifecycle', newLifecycle, 'value for approval can be only one of Draft,Published'));
  }
  return errors;
}

/** Parse the PUT body up front (400s come from the generic handler, before the lock). */
function readUpdateBody(request: SimRequest, route: ItemRoute): { put?: DecodedRevision; patch?: unknown } {
  if (request.method === 'PUT') {
    const put = decodeRevision(parseBody(request));
    checkNameAndNamespace(put.metadata, route.name, route.namespace);
    return { put };
  }
  if (!PATCH_TYPES.includes(request.contentType)) throw unsupportedMediaType(request.contentType, PATCH_TYPES);
  return { patch: parseBody(request) };
}

export async function updatePackageRevision(
  ctx: HandlerContext,
  request: SimRequest,
  route: ItemRoute,
  mode: UpdateMode,
): Promise<SimResponse> {
  const body = readUpdateBody(request, route);
  // The same lock key as PRR updates and deletes (docs/porch.md §In-flight lock).
  const lockKey = `${route.namespace}/${route.name}`;
  if (!ctx.locks.tryAcquire(lockKey)) {
    throw conflict(PACKAGE_REVISIONS, route.name, `another request is already in progress on package revision "${lockKey}"`);
  }
  try {
    await ctx.gate.pass();
    const record = findRevision(ctx, route.namespace, route.name);
    const oldJson = packageRevisionJson(ctx.store, record);
    const old = decodeRevision(oldJson);
    let next: DecodedRevision;
    if (body.put !== undefined) {
      next = body.put;
    } else {
      next = decodeRevision(applyPatch(request.contentType, oldJson as unknown as JsonObject, body.patch));
      checkNameAndNamespace(next.metadata, route.name, route.namespace);
    }
    if (mode === 'main' && next.spec.packageMetadata === undefined && old.spec.packageMetadata !== undefined) {
      next.spec.packageMetadata = old.spec.packageMetadata; // PrepareForUpdate
    }
    const errors = mode === 'main' ? validateMainUpdate(old, next) : validateApproval(old, next);
    if (errors.length > 0) throw invalid('porch.kpt.dev', 'PackageRevision', route.name, errors);
    // Canonicalize after validation: an omitted lifecycle becomes Draft (docs/porch.md §Sharp edges item 6).
    if (mode === 'main' && next.spec.lifecycle === '') next.spec.lifecycle = 'Draft';

    const repo = requireRepository(ctx, route.namespace, record.repository);
    if (repo.v1alpha2) throw gone(`repository "${repo.name}" is managed by v1alpha2; use the v1alpha2 API`);
    // The engine's own RV check: both failures are wrapped into 500 (docs/porch.md §Stale resourceVersion).
    if (next.metadata.resourceVersion === '') throw internalError('resourceVersion must be specified for an update');
    if (next.metadata.resourceVersion !== record.resourceVersion) {
      throw internalError(`Operation cannot be fulfilled on packagerevisions.porch.kpt.dev "${route.name}": ${OPTIMISTIC_LOCK_MESSAGE}`);
    }
    const before = record.lifecycle;
    applyUpdate(ctx, record, next);
    ctx.store.recordWrite(mode === 'main' ? 'update' : 'approval', record, before);
    return jsonResponse(200, packageRevisionJson(ctx.store, record), unknownFieldWarnings(next.unknownFields));
  } finally {
    ctx.locks.release(lockKey);
  }
}

function applyMetadata(record: RevisionRecord, next: DecodedRevision): void {
  const labels = { ...next.metadata.labels };
  delete labels[LATEST_REVISION_LABEL]; // computed, never stored
  record.labels = labels;
  record.annotations = { ...next.metadata.annotations };
  record.finalizers = [...(next.metadata.finalizers ?? [])];
  record.ownerReferences = structuredClone(next.metadata.ownerReferences ?? []) as JsonObject[];
}

function applyUpdate(ctx: HandlerContext, record: RevisionRecord, next: DecodedRevision): void {
  const store = ctx.store;
  const newLifecycle = next.spec.lifecycle as Lifecycle;
  if (isPublishedLifecycle(record.lifecycle)) {
    // Published revisions: lifecycle toggle and metadata only. Metadata-only edits keep the RV
    // (it is the commit SHA, docs/porch.md §When the version moves).
    if (record.lifecycle !== newLifecycle) {
      record.lifecycle = newLifecycle;
      record.resourceVersion = store.newResourceVersion();
    }
    applyMetadata(record, next);
    return;
  }
  if (record.lifecycle === 'Draft') {
    // A Draft's Kptfile follows spec.packageMetadata, readiness gates and conditions, then re-renders.
    let files = record.files;
    const kptfile = files[KPTFILE];
    if (kptfile !== undefined) {
      const patched = applyMetadataToKptfile(
        kptfile,
        {
          ...(next.spec.packageMetadata?.labels === undefined ? {} : { labels: next.spec.packageMetadata.labels }),
          ...(next.spec.packageMetadata?.annotations === undefined ? {} : { annotations: next.spec.packageMetadata.annotations }),
          ...(next.spec.readinessGates === undefined ? {} : { readinessGates: next.spec.readinessGates }),
          ...(next.status.conditions === undefined ? {} : { conditions: next.status.conditions }),
        },
        true,
      );
      if (patched !== undefined) files = { ...files, [KPTFILE]: patched };
    }
    const rendered = renderPackage(files, store.compat.renderedCondition);
    if (!rendered.ok) {
      throw internalError(
        `Error rendering package in kpt function pipeline. Package NOT pushed to remote. Fix locally (until 'kpt fn render' succeeds) and retry. Details: ${rendered.error}`,
      );
    }
    record.files = rendered.files;
  }
  record.lifecycle = newLifecycle;
  if (newLifecycle === 'Published') {
    // Approval: revision = highest published + 1 (docs/porch.md §Approving, §Sharp edges item 8).
    record.revision = store.maxPublishedRevision(record.namespace, record.repository, record.packageName) + 1;
    record.publishTimestamp = store.timestamp();
    record.publishedBy = ctx.authorizer.userName;
  }
  record.resourceVersion = store.newResourceVersion();
  applyMetadata(record, next);
  if (newLifecycle === 'Published') store.refreshPlaceholder(record.namespace, record.repository, record.packageName);
}
