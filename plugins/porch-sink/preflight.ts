// `conductor validate --check-connectivity` for Porch: one pass/fail line per thing the flow
// depends on, in the order they build on each other, stopping where later checks could only
// repeat the same failure. Permissions are asked with SelfSubjectAccessReview, which needs no
// permission of its own, for exactly the verbs the flow uses (docs/porch.md §RBAC).
import type { PreflightCheck } from '../../core/index.ts';
import { ApiError, TransportError } from './client.ts';
import type { BlueprintOptions } from './options.ts';
import type { PorchApi } from './porch-api.ts';

export interface PreflightTarget {
  namespace: string;
  repository: string;
  approve: boolean;
  blueprint?: BlueprintOptions | undefined;
}

/** Each access the flow needs, as the SelfSubjectAccessReview asks for it. */
export function requiredAccess(approve: boolean): { verb: string; group: string; resource: string; subresource?: string }[] {
  return [
    { verb: 'get', group: 'config.porch.kpt.dev', resource: 'repositories' },
    { verb: 'list', group: 'porch.kpt.dev', resource: 'packagerevisions' },
    { verb: 'create', group: 'porch.kpt.dev', resource: 'packagerevisions' },
    { verb: 'update', group: 'porch.kpt.dev', resource: 'packagerevisions' },
    // A Draft or Proposed revision copied from an outdated one is deleted and made again (flow.ts).
    { verb: 'delete', group: 'porch.kpt.dev', resource: 'packagerevisions' },
    { verb: 'get', group: 'porch.kpt.dev', resource: 'packagerevisionresources' },
    { verb: 'update', group: 'porch.kpt.dev', resource: 'packagerevisionresources' },
    ...(approve ? [{ verb: 'update', group: 'porch.kpt.dev', resource: 'packagerevisions', subresource: 'approval' }] : []),
  ];
}

export async function runPreflight(api: PorchApi, target: PreflightTarget, signal: AbortSignal): Promise<PreflightCheck[]> {
  const checks: PreflightCheck[] = [];
  const origin = api.client.connection.origin;
  const options = { signal };

  // 1. Reach: any HTTP answer, even a refusal, proves the network path and the TLS trust.
  let versionRefusal: ApiError | undefined;
  try {
    await api.client.request({ method: 'GET', path: '/version', signal });
  } catch (error) {
    if (!(error instanceof ApiError)) {
      checks.push({ name: 'reach server', ok: false, message: describe(error) });
      return checks;
    }
    versionRefusal = error;
  }
  checks.push({ name: 'reach server', ok: true, message: `${origin} answered (${api.client.connection.source})` });

  // 2. Authenticate: a 401 anywhere means the credentials were refused; nothing further can pass.
  let resources: (string | undefined)[] | undefined;
  let discoveryError: unknown;
  try {
    resources = ((await api.discovery(options)).resources ?? []).map((r) => r.name);
  } catch (error) {
    discoveryError = error;
  }
  const refused = [versionRefusal, discoveryError].find((e): e is ApiError => e instanceof ApiError && e.status === 401);
  if (refused !== undefined || (discoveryError !== undefined && !(discoveryError instanceof ApiError))) {
    checks.push({ name: 'authenticate', ok: false, message: `credentials refused: ${describe(refused ?? discoveryError)}` });
    return checks;
  }
  const token = api.client.connection.token;
  checks.push({ name: 'authenticate', ok: true, message: token ? `${token.description} accepted` : 'accepted without a token' });

  // 3. The Porch API group is served (its APIService is available, docs/porch.md §Resources, §Rate limiting).
  if (resources === undefined) {
    checks.push({ name: 'porch API', ok: false, message: `porch.kpt.dev/v1alpha1 is not usable: ${describe(discoveryError)}` });
  } else {
    const missing = ['packagerevisions', 'packagerevisions/approval', 'packagerevisionresources'].filter((n) => !resources.includes(n));
    checks.push(
      missing.length === 0
        ? { name: 'porch API', ok: true, message: 'porch.kpt.dev/v1alpha1 is served' }
        : { name: 'porch API', ok: false, message: `porch.kpt.dev/v1alpha1 lacks ${missing.join(', ')}` },
    );
  }

  // 4. The Repository exists and is Ready.
  try {
    const repository = await api.getRepository(target.namespace, target.repository, options);
    const ready = repository.status?.conditions?.find((c) => c.type === 'Ready');
    checks.push(
      ready === undefined || ready.status === 'True'
        ? { name: 'repository', ok: true, message: `${target.namespace}/${target.repository} exists${ready ? ' and is Ready' : ''}` }
        : {
            name: 'repository',
            ok: false,
            message: `${target.namespace}/${target.repository} is not Ready: ${ready.message ?? ready.status}`,
          },
    );
  } catch (error) {
    checks.push({ name: 'repository', ok: false, message: `${target.namespace}/${target.repository}: ${describe(error)}` });
  }

  // 5. The blueprint new targets are cloned from has a Published revision to clone.
  if (target.blueprint !== undefined) checks.push(await checkBlueprint(api, target.namespace, target.blueprint, signal));

  // 6. Every permission the flow uses.
  for (const access of requiredAccess(target.approve)) {
    const resource = access.subresource === undefined ? access.resource : `${access.resource}/${access.subresource}`;
    const name = `may ${access.verb} ${resource}`;
    try {
      const review = await api.accessReview({ namespace: target.namespace, ...access }, options);
      checks.push({
        name,
        ok: review.allowed,
        message: review.allowed
          ? `allowed in ${target.namespace} (${access.group})`
          : `denied in ${target.namespace} (${access.group})${review.reason ? `: ${review.reason}` : ''}`,
      });
    } catch (error) {
      checks.push({ name, ok: false, message: `cannot check: ${describe(error)}` });
    }
  }
  return checks;
}

async function checkBlueprint(api: PorchApi, namespace: string, blueprint: BlueprintOptions, signal: AbortSignal): Promise<PreflightCheck> {
  const where = `${namespace}/${blueprint.repository}/${blueprint.package}`;
  try {
    const coordinates = { namespace, repository: blueprint.repository, packageName: blueprint.package };
    const revisions = await api.listPackageRevisions(coordinates, { signal });
    const published = revisions
      .filter((r) => r.spec.lifecycle === 'Published')
      .map((r) => r.spec.revision ?? 0)
      .filter((n) => n > 0);
    const wanted = blueprint.revision ?? Math.max(0, ...published);
    if (published.includes(wanted)) {
      return { name: 'blueprint', ok: true, message: `${where} has Published revision ${wanted} to clone new targets from` };
    }
    const which = blueprint.revision === undefined ? '' : ` ${blueprint.revision}`;
    return { name: 'blueprint', ok: false, message: `${where} has no Published revision${which}; new targets would be refused` };
  } catch (error) {
    return { name: 'blueprint', ok: false, message: `${where}: ${describe(error)}` };
  }
}

function describe(error: unknown): string {
  if (error instanceof ApiError) return `${error.status}${error.reason ? ` ${error.reason}` : ''}: ${error.serverMessage}`;
  if (error instanceof TransportError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
