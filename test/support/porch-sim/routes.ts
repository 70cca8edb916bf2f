// URL layout of the kube-apiserver as a Porch client sees it (docs/porch.md §Resources).

import type { ResourceAttributes } from './auth.ts';

export const PORCH_GROUP = 'porch.kpt.dev';
export const CONFIG_GROUP = 'config.porch.kpt.dev';
export const AUTHORIZATION_GROUP = 'authorization.k8s.io';

export type Route =
  | { kind: 'public'; target: 'version' | 'health' }
  | { kind: 'discovery'; target: 'apis' | 'api' | 'group' | 'group-version'; group: string }
  | {
      kind: 'resource';
      group: string;
      /** '' for the all-namespaces collection. */
      namespace: string;
      resource: string;
      name: string;
      subresource: string;
    }
  | { kind: 'unknown' };

const VERSION_OF: Record<string, string> = {
  [PORCH_GROUP]: 'v1alpha1',
  [CONFIG_GROUP]: 'v1alpha1',
  [AUTHORIZATION_GROUP]: 'v1',
};

export function parseRoute(path: string): Route {
  if (path === '/version' || path === '/version/') return { kind: 'public', target: 'version' };
  if (['/healthz', '/readyz', '/livez'].includes(path)) return { kind: 'public', target: 'health' };
  const parts = path.split('/').filter((p) => p !== '');
  if (parts[0] === 'api' && parts.length <= 2) return { kind: 'discovery', target: 'api', group: '' };
  if (parts[0] !== 'apis') return { kind: 'unknown' };
  if (parts.length === 1) return { kind: 'discovery', target: 'apis', group: '' };
  const group = parts[1] ?? '';
  const version = VERSION_OF[group];
  if (version === undefined) return { kind: 'unknown' };
  if (parts.length === 2) return { kind: 'discovery', target: 'group', group };
  if (parts[2] !== version) return { kind: 'unknown' };
  if (parts.length === 3) return { kind: 'discovery', target: 'group-version', group };
  let rest = parts.slice(3);
  let namespace = '';
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1] ?? '';
    rest = rest.slice(2);
  }
  if (rest.length < 1 || rest.length > 3) return { kind: 'unknown' };
  return {
    kind: 'resource',
    group,
    namespace,
    resource: rest[0] ?? '',
    name: rest[1] ?? '',
    subresource: rest[2] ?? '',
  };
}

/** The RBAC verb of a request (get/list/watch/create/update/patch/delete/deletecollection). */
export function verbOf(method: string, route: Route, query: URLSearchParams): string {
  const hasName = route.kind === 'resource' && route.name !== '';
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (!hasName) return query.get('watch') === 'true' || query.get('watch') === '1' ? 'watch' : 'list';
      return 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return hasName ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}

export function attributesOf(method: string, route: Route, query: URLSearchParams): ResourceAttributes | undefined {
  if (route.kind !== 'resource') return undefined;
  return {
    verb: verbOf(method, route, query),
    group: route.group,
    resource: route.resource,
    subresource: route.subresource,
    namespace: route.namespace,
    name: route.name,
  };
}

/** Writes are what fault injection can restrict itself to; an access review only reads. */
export function isWriteRequest(method: string, route: Route): boolean {
  if (route.kind === 'resource' && route.resource === 'selfsubjectaccessreviews') return false;
  return method === 'POST' || method === 'PUT' || method === 'PATCH' || method === 'DELETE';
}
