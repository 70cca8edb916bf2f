// Which handler answers which (route, method). Verbs a resource does not implement get the
// generic apiserver's 405 (docs/porch.md §Resources).

import type { HandlerContext } from './context.ts';
import { createSelfSubjectAccessReview } from './handlers/access-review.ts';
import { discovery, versionInfo } from './handlers/discovery.ts';
import { updatePackageRevision } from './handlers/package-revision-update.ts';
import { createPackageRevision, deletePackageRevision, getPackageRevision, listPackageRevisions } from './handlers/package-revisions.ts';
import { getPackage, listPackages, refusePackageWrite } from './handlers/packages.ts';
import { getRepository, listRepositories } from './handlers/repositories.ts';
import { getResources, listResources, updateResources } from './handlers/resources.ts';
import type { SimRequest, SimResponse } from './http.ts';
import { methodNotAllowed, pathNotFound } from './k8s-status.ts';
import { AUTHORIZATION_GROUP, CONFIG_GROUP, PORCH_GROUP } from './routes.ts';
import type { Route } from './routes.ts';

export interface DispatchOptions {
  kubernetesVersion: string;
}

type ResourceRoute = Extract<Route, { kind: 'resource' }>;

export async function dispatch(ctx: HandlerContext, request: SimRequest, route: Route, options: DispatchOptions): Promise<SimResponse> {
  switch (route.kind) {
    case 'public':
      if (route.target === 'version') return versionInfo(options.kubernetesVersion);
      return { status: 200, body: 'ok' };
    case 'discovery':
      if (request.method !== 'GET') throw methodNotAllowed();
      return discovery(route.target, route.group);
    case 'unknown':
      throw pathNotFound();
    case 'resource':
      return dispatchResource(ctx, request, route);
  }
}

async function dispatchResource(ctx: HandlerContext, request: SimRequest, route: ResourceRoute): Promise<SimResponse> {
  const { method } = request;
  const collection = route.name === '';
  if (route.group === AUTHORIZATION_GROUP) {
    if (route.resource !== 'selfsubjectaccessreviews' || route.namespace !== '' || !collection) throw pathNotFound();
    if (method !== 'POST') throw methodNotAllowed();
    return createSelfSubjectAccessReview(ctx, request);
  }
  if (route.group === CONFIG_GROUP) {
    if (route.resource !== 'repositories' || route.subresource !== '') throw pathNotFound();
    // Repositories are seeded through the simulator API; writes through HTTP are not simulated.
    if (method !== 'GET') throw methodNotAllowed();
    return collection ? listRepositories(ctx, route) : getRepository(ctx, route);
  }
  if (route.group !== PORCH_GROUP) throw pathNotFound();
  // The all-namespaces path serves only list (docs/porch.md §Resources; create needs a namespace).
  if (route.namespace === '' && !(collection && method === 'GET')) {
    if (collection) throw methodNotAllowed();
    throw pathNotFound();
  }
  switch (route.resource) {
    case 'packagerevisions':
      return packageRevisionRoute(ctx, request, route);
    case 'packagerevisionresources':
      if (route.subresource !== '') throw pathNotFound();
      if (collection) {
        if (method !== 'GET' || request.query.get('watch') === 'true') throw methodNotAllowed();
        return listResources(ctx, request, route);
      }
      if (method === 'GET') return getResources(ctx, route);
      if (method === 'PUT' || method === 'PATCH') return updateResources(ctx, request, route);
      throw methodNotAllowed();
    case 'packages':
      if (route.subresource !== '') throw pathNotFound();
      if (method === 'GET') return collection ? listPackages(ctx, request, route) : getPackage(ctx, route);
      if (method === 'POST' || method === 'PUT' || method === 'PATCH' || method === 'DELETE') refusePackageWrite(method);
      throw methodNotAllowed();
    default:
      throw pathNotFound();
  }
}

async function packageRevisionRoute(ctx: HandlerContext, request: SimRequest, route: ResourceRoute): Promise<SimResponse> {
  const { method } = request;
  if (route.name === '') {
    if (method === 'GET') return listPackageRevisions(ctx, request, route);
    if (method === 'POST') return createPackageRevision(ctx, request, route);
    throw methodNotAllowed();
  }
  if (route.subresource === 'approval') {
    if (method === 'GET') return getPackageRevision(ctx, route);
    if (method === 'PUT' || method === 'PATCH') return updatePackageRevision(ctx, request, route, 'approval');
    throw methodNotAllowed();
  }
  // There is no `status` subresource in v1alpha1 (docs/porch.md §Resources).
  if (route.subresource !== '') throw pathNotFound();
  if (method === 'GET') return getPackageRevision(ctx, route);
  if (method === 'PUT' || method === 'PATCH') return updatePackageRevision(ctx, request, route, 'main');
  if (method === 'DELETE') return deletePackageRevision(ctx, route);
  throw methodNotAllowed();
}
