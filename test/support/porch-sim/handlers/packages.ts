// packages (PorchPackage): read-only views; create/update/delete answer 405 with Porch's own
// messages (docs/porch.md §Resources, §Errors, §Simulator endpoints item 11).

import type { HandlerContext } from '../context.ts';
import { jsonResponse } from '../http.ts';
import type { SimRequest, SimResponse } from '../http.ts';
import { PACKAGES, REPOSITORIES, badRequest, methodNotSupported, notFound, unknownServerError } from '../k8s-status.ts';
import { composePackageName, directoryNameError, dns1123LabelErrors } from '../naming.ts';
import { PORCH_API_VERSION, packageJson } from '../representation.ts';
import { parseFieldSelector } from '../selectors.ts';
import type { JsonObject } from '../types.ts';
import type { CollectionRoute, ItemRoute } from './package-revisions.ts';

interface PackageView {
  namespace: string;
  name: string;
  repository: string;
  packageName: string;
}

function packagesOf(ctx: HandlerContext, namespace: string): PackageView[] {
  const seen = new Map<string, PackageView>();
  for (const r of ctx.store.allRevisions()) {
    if (namespace !== '' && r.namespace !== namespace) continue;
    const name = composePackageName(r.repository, r.packageName);
    seen.set(`${r.namespace}/${name}`, { namespace: r.namespace, name, repository: r.repository, packageName: r.packageName });
  }
  return [...seen.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function view(ctx: HandlerContext, p: PackageView): JsonObject {
  return packageJson(
    p.namespace,
    p.name,
    p.repository,
    p.packageName,
    ctx.store.maxPublishedRevision(p.namespace, p.repository, p.packageName),
  );
}

export function listPackages(ctx: HandlerContext, request: SimRequest, route: CollectionRoute): SimResponse {
  let items = packagesOf(ctx, route.namespace);
  for (const term of parseFieldSelector(request.query.get('fieldSelector') ?? '')) {
    if (term.operator !== '=' && term.operator !== '==') {
      throw badRequest(`unsupported fieldSelector operator "${term.operator}" for field "${term.field}"`);
    }
    const pick: Record<string, (p: PackageView) => string> = {
      'metadata.name': (p) => p.name,
      'metadata.namespace': (p) => p.namespace,
      'spec.packageName': (p) => p.packageName,
      'spec.repository': (p) => p.repository,
    };
    const get = pick[term.field];
    if (get === undefined) throw badRequest(`"${term.field}" is not a known field selector`);
    items = items.filter((p) => get(p) === term.value);
  }
  const json = items.map((p) => view(ctx, p));
  return jsonResponse(200, { kind: 'PackageList', apiVersion: PORCH_API_VERSION, metadata: {}, items: json.length === 0 ? null : json });
}

export function getPackage(ctx: HandlerContext, route: ItemRoute): SimResponse {
  const parts = route.name.split('.');
  const repository = parts[0] ?? '';
  const leaf = parts.length > 1 ? (parts[parts.length - 1] ?? '') : '';
  const path = parts.slice(1, -1).join('/');
  const problems = [...dns1123LabelErrors(repository), ...dns1123LabelErrors(leaf)];
  const pathError = directoryNameError(path, false);
  if (problems.length > 0 || pathError !== undefined) {
    throw unknownServerError(
      `package kubernetes resource name invalid:\n${[...problems, pathError ?? ''].filter((p) => p !== '').join('\n')}\n`,
    );
  }
  if (ctx.store.getRepository(route.namespace, repository) === undefined) throw notFound(REPOSITORIES, repository);
  const found = packagesOf(ctx, route.namespace).find((p) => p.name === route.name);
  if (found === undefined) throw notFound(PACKAGES, route.name);
  return jsonResponse(200, view(ctx, found));
}

export function refusePackageWrite(method: string): never {
  if (method === 'POST')
    throw methodNotSupported(PACKAGES, 'create or clone a PackageRevision resource to create a package as direct package creation');
  if (method === 'DELETE')
    throw methodNotSupported(PACKAGES, 'delete all PackageRevisions resources of a package to delete a package as direct package deletion');
  throw methodNotSupported(PACKAGES, 'update a PackageRevision resource to update a package as direct package update');
}
