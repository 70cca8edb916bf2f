// SelfSubjectAccessReview (authorization.k8s.io/v1): lets a client ask whether the simulated
// service account may do something; answers follow the configurable deny list (docs/porch.md §RBAC).

import type { HandlerContext } from '../context.ts';
import { jsonResponse, parseBody } from '../http.ts';
import type { SimRequest, SimResponse } from '../http.ts';
import { badRequest, fieldInvalid, invalid } from '../k8s-status.ts';
import type { JsonObject } from '../types.ts';

function asObject(value: unknown): JsonObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

function str(obj: JsonObject, key: string): string {
  const v = obj[key];
  return typeof v === 'string' ? v : '';
}

export function createSelfSubjectAccessReview(ctx: HandlerContext, request: SimRequest): SimResponse {
  const body = asObject(parseBody(request));
  if (body === undefined) throw badRequest('SelfSubjectAccessReview in version "v1" cannot be handled as a SelfSubjectAccessReview');
  const spec = asObject(body['spec']) ?? {};
  const resource = asObject(spec['resourceAttributes']);
  const nonResource = asObject(spec['nonResourceAttributes']);
  if ((resource === undefined) === (nonResource === undefined)) {
    throw invalid('authorization.k8s.io', 'SelfSubjectAccessReview', '', [
      fieldInvalid('spec.resourceAttributes', 'null', 'exactly one of nonResourceAttributes or resourceAttributes must be specified'),
    ]);
  }
  let allowed = true;
  if (resource !== undefined) {
    allowed = ctx.authorizer.allowed({
      verb: str(resource, 'verb'),
      group: str(resource, 'group'),
      resource: str(resource, 'resource'),
      subresource: str(resource, 'subresource'),
      namespace: str(resource, 'namespace'),
      name: str(resource, 'name'),
    });
  }
  const status: JsonObject = { allowed };
  if (allowed) status['reason'] = `RBAC: allowed by RoleBinding "porch-sim" of Role "porch-sim" to User "${ctx.authorizer.userName}"`;
  return jsonResponse(201, {
    kind: 'SelfSubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null },
    spec: structuredClone(spec),
    status,
  });
}
