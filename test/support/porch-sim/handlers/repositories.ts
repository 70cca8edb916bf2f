// Repository CRs (config.porch.kpt.dev/v1alpha1), served by the kube-apiserver itself
// (docs/porch.md §Resources, §Repository). Being a CRD, its list has a resourceVersion and `continue`.

import type { HandlerContext } from '../context.ts';
import { jsonResponse } from '../http.ts';
import type { SimResponse } from '../http.ts';
import { REPOSITORIES, notFound } from '../k8s-status.ts';
import { CONFIG_API_VERSION, repositoryJson } from '../representation.ts';
import type { CollectionRoute, ItemRoute } from './package-revisions.ts';

export function listRepositories(ctx: HandlerContext, route: CollectionRoute): SimResponse {
  return jsonResponse(200, {
    apiVersion: CONFIG_API_VERSION,
    items: ctx.store.listRepositories(route.namespace).map(repositoryJson),
    kind: 'RepositoryList',
    metadata: { continue: '', resourceVersion: ctx.store.repositoryListVersion() },
  });
}

export function getRepository(ctx: HandlerContext, route: ItemRoute): SimResponse {
  const repo = ctx.store.getRepository(route.namespace, route.name);
  if (repo === undefined) throw notFound(REPOSITORIES, route.name);
  return jsonResponse(200, repositoryJson(repo));
}
