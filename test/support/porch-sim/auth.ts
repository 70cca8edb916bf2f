// Authentication (Bearer token → 401 Status) and authorization (a deny list standing in for
// RBAC → 403 in the apiserver's shape), docs/porch.md §RBAC, §Simulator endpoints item 13.

import { forbidden } from './k8s-status.ts';
import type { ApiError } from './k8s-status.ts';
import type { DenyRule } from './types.ts';

/** What the authorizer sees for a resource request. */
export interface ResourceAttributes {
  verb: string;
  group: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

export type AuthResult = 'anonymous' | 'authenticated' | 'rejected';

export class Authenticator {
  private token: string | undefined;

  constructor(token: string | undefined) {
    this.token = token;
  }

  /** undefined turns authentication off (every request is the simulated service account). */
  setToken(token: string | undefined): void {
    this.token = token;
  }

  currentToken(): string | undefined {
    return this.token;
  }

  /**
   * A wrong token is always 401. No Authorization header is "anonymous", which the apiserver lets
   * through only for public paths such as /version and /healthz.
   */
  check(authorization: string | undefined): AuthResult {
    if (this.token === undefined) return 'authenticated';
    if (authorization === undefined || authorization === '') return 'anonymous';
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    return match !== null && match[1] === this.token ? 'authenticated' : 'rejected';
  }
}

function ruleMatches(rule: DenyRule, attributes: ResourceAttributes): boolean {
  return (
    (rule.verb === undefined || rule.verb === attributes.verb) &&
    (rule.group === undefined || rule.group === attributes.group) &&
    (rule.resource === undefined || rule.resource === attributes.resource) &&
    (rule.subresource === undefined || rule.subresource === attributes.subresource) &&
    (rule.namespace === undefined || rule.namespace === attributes.namespace) &&
    (rule.name === undefined || rule.name === attributes.name)
  );
}

export class Authorizer {
  private rules: DenyRule[];
  readonly userName: string;

  constructor(userName: string, rules: DenyRule[]) {
    this.userName = userName;
    this.rules = [...rules];
  }

  setDenyRules(rules: DenyRule[]): void {
    this.rules = [...rules];
  }

  allowed(attributes: ResourceAttributes): boolean {
    return !this.rules.some((rule) => ruleMatches(rule, attributes));
  }

  /** The apiserver's RBAC denial text (docs/porch.md §RBAC). */
  forbiddenError(attributes: ResourceAttributes): ApiError {
    const resource = attributes.subresource === '' ? attributes.resource : `${attributes.resource}/${attributes.subresource}`;
    const scope = attributes.namespace === '' ? 'at the cluster scope' : `in the namespace "${attributes.namespace}"`;
    return forbidden(
      { group: attributes.group, resource: attributes.resource },
      attributes.name,
      `User "${this.userName}" cannot ${attributes.verb} resource "${resource}" in API group "${attributes.group}" ${scope}`,
    );
  }
}
