// packagerevisionresources: list, get, PUT (full replace) and PATCH (per-file merge)
// (docs/porch.md §PackageRevisionResources, §Writing resources, §Simulator endpoints items 9–10, §Sharp edges items 4
// and 7).

import type { HandlerContext } from '../context.ts';
import { decodeResources } from '../decode.ts';
import type { DecodedResources } from '../decode.ts';
import { jsonResponse, parseBody } from '../http.ts';
import type { SimRequest, SimResponse } from '../http.ts';
import { PACKAGE_REVISION_RESOURCES, conflict, internalError, unsupportedMediaType } from '../k8s-status.ts';
import { renderPackage } from '../kptfile.ts';
import { applyPatch } from '../patch.ts';
import { PORCH_API_VERSION, packageRevisionResourcesJson } from '../representation.ts';
import { checkNameAndNamespace, findRevisionForResources, requireRepository } from './lookup.ts';
import { PATCH_TYPES } from './package-revision-update.ts';
import { selectRevisions } from './package-revisions.ts';
import type { CollectionRoute, ItemRoute } from './package-revisions.ts';

const OPTIMISTIC_LOCK_MESSAGE = 'the object has been modified; please apply your changes to the latest version and try again';
const PUSH_ON_RENDER_FAILURE = 'porch.kpt.dev/push-on-render-failure';

/** The PRR list takes the same selectors as the PackageRevision list (docs/porch.md §Listing). */
export function listResources(ctx: HandlerContext, request: SimRequest, route: CollectionRoute): SimResponse {
  const items = selectRevisions(ctx, request, route.namespace).map((r) => packageRevisionResourcesJson(r));
  return jsonResponse(200, {
    kind: 'PackageRevisionResourcesList',
    apiVersion: PORCH_API_VERSION,
    metadata: {},
    items: items.length === 0 ? null : items,
  });
}

export function getResources(ctx: HandlerContext, route: ItemRoute): SimResponse {
  return jsonResponse(200, packageRevisionResourcesJson(findRevisionForResources(ctx, route.namespace, route.name)));
}

export async function updateResources(ctx: HandlerContext, request: SimRequest, route: ItemRoute): Promise<SimResponse> {
  let put: DecodedResources | undefined;
  let patch: unknown;
  if (request.method === 'PUT') {
    put = decodeResources(parseBody(request));
    checkNameAndNamespace(put.metadata, route.name, route.namespace);
  } else {
    if (!PATCH_TYPES.includes(request.contentType)) throw unsupportedMediaType(request.contentType, PATCH_TYPES);
    patch = parseBody(request);
  }
  const lockKey = `${route.namespace}/${route.name}`;
  if (!ctx.locks.tryAcquire(lockKey)) {
    throw conflict(
      PACKAGE_REVISION_RESOURCES,
      route.name,
      `another request is already in progress on package revision resources "${lockKey}"`,
    );
  }
  try {
    await ctx.gate.pass();
    const record = findRevisionForResources(ctx, route.namespace, route.name);
    let next: DecodedResources;
    if (put !== undefined) {
      next = put;
    } else {
      // Merge patch upserts single files, null deletes one (docs/porch.md §Idempotency).
      next = decodeResources(applyPatch(request.contentType, packageRevisionResourcesJson(record), patch));
      checkNameAndNamespace(next.metadata, route.name, route.namespace);
    }
    const repo = requireRepository(ctx, route.namespace, record.repository);
    if (next.metadata.resourceVersion === '') throw internalError('resourceVersion must be specified for an update');
    if (next.metadata.resourceVersion !== record.resourceVersion) {
      // 500, not 409 (docs/porch.md §Stale resourceVersion, §Sharp edges item 3).
      throw internalError(
        `Operation cannot be fulfilled on packagerevisionresources.porch.kpt.dev "${route.name}": ${OPTIMISTIC_LOCK_MESSAGE}`,
      );
    }
    if (record.lifecycle !== 'Draft') {
      throw internalError(`cannot update a package revision with lifecycle value "${record.lifecycle}"; package must be Draft`);
    }
    const before = record.lifecycle;
    if (repo.v1alpha2) {
      // v1alpha2 repositories store without rendering; their controller renders later.
      record.files = { ...next.resources };
      record.resourceVersion = ctx.store.newResourceVersion();
      ctx.store.recordWrite('update-resources', record, before);
      return jsonResponse(200, packageRevisionResourcesJson(record));
    }
    // PUT is a full replace: files left out are deleted. The render may rewrite the text.
    const rendered = renderPackage(next.resources, ctx.store.compat.renderedCondition);
    if (!rendered.ok) {
      if (record.annotations[PUSH_ON_RENDER_FAILURE] === 'true') {
        record.files = { ...next.resources };
        record.resourceVersion = ctx.store.newResourceVersion();
        ctx.store.recordWrite('update-resources', record, before);
        throw internalError(
          `error rendering package in kpt function pipeline. Package pushed to remote despite render failure. Details: ${rendered.error}`,
        );
      }
      throw internalError(
        `error rendering package in kpt function pipeline. Package NOT pushed to remote. Fix locally (until 'kpt fn render' succeeds) and retry. Details: ${rendered.error}`,
      );
    }
    record.files = rendered.files;
    record.resourceVersion = ctx.store.newResourceVersion();
    ctx.store.recordWrite('update-resources', record, before);
    return jsonResponse(200, packageRevisionResourcesJson(record));
  } finally {
    ctx.locks.release(lockKey);
  }
}
