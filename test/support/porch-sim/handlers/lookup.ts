// Finding the object a request names, with the real server's error for each way it can fail
// (docs/porch.md §Errors, §Simulator endpoints items 3 and 9, §Sharp edges item 13).

import type { HandlerContext } from '../context.ts';
import type { DecodedMetadata } from '../decode.ts';
import { PACKAGE_REVISIONS, PACKAGE_REVISION_RESOURCES, REPOSITORIES, badRequest, notFound, unknownServerError } from '../k8s-status.ts';
import type { GroupResource } from '../k8s-status.ts';
import { parseRevisionName } from '../naming.ts';
import type { RepositoryRecord, RevisionRecord } from '../types.ts';

/**
 * PackageRevision (and approval) lookups: a name that does not parse is a bare 500, an unknown
 * or v1alpha2-managed repository simply hides the object (404 on packagerevisions).
 */
export function findRevision(ctx: HandlerContext, namespace: string, name: string, gr: GroupResource = PACKAGE_REVISIONS): RevisionRecord {
  const parsed = parseRevisionName(name);
  if (!parsed.ok) throw unknownServerError(parsed.error);
  const record = ctx.store.getRevision(namespace, name);
  const repo = ctx.store.getRepository(namespace, parsed.key.repository);
  if (record === undefined || repo === undefined || repo.v1alpha2) throw notFound(gr, name);
  return record;
}

/** PackageRevisionResources lookups check the repository first: 404 on *repositories* (docs/porch.md §Errors). */
export function findRevisionForResources(ctx: HandlerContext, namespace: string, name: string): RevisionRecord {
  const parsed = parseRevisionName(name);
  if (!parsed.ok) throw unknownServerError(parsed.error);
  if (ctx.store.getRepository(namespace, parsed.key.repository) === undefined) {
    throw notFound(REPOSITORIES, parsed.key.repository);
  }
  const record = ctx.store.getRevision(namespace, name);
  if (record === undefined) throw notFound(PACKAGE_REVISION_RESOURCES, name);
  return record;
}

export function requireRepository(ctx: HandlerContext, namespace: string, name: string): RepositoryRecord {
  const repo = ctx.store.getRepository(namespace, name);
  if (repo === undefined) throw notFound(REPOSITORIES, name);
  return repo;
}

/** The generic update handler's checks of the body against the URL (docs/porch.md §Errors). */
export function checkNameAndNamespace(metadata: DecodedMetadata, urlName: string, urlNamespace: string): void {
  if (metadata.namespace !== '' && metadata.namespace !== urlNamespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  if (metadata.name !== urlName) {
    throw badRequest(`the name of the object (${metadata.name}) does not match the name on the URL (${urlName})`);
  }
}
