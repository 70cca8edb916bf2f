// Checks on the rendered workload, one property each. Each returns findings naming the object.

import {
  appConfig,
  argValue,
  conductorWorkload,
  CONTRACT_ARGS,
  endpointOf,
  HEALTH_PATHS,
  healthPort,
  metricsPath,
  metricsPort,
  pluginOptions,
  resolveContainerPort,
  volumeAt,
} from './app.ts';
import {
  asArray,
  asNumber,
  asObject,
  asString,
  at,
  containersOf,
  find,
  finding,
  isClusterScoped,
  labelsOf,
  nameOf,
  namespaceOf,
  ofKind,
  podTemplates,
  ref,
  selectsLabels,
  selectsMap,
  type Finding,
  type JsonObject,
  type KObject,
  type RenderedSet,
} from './objects.ts';

/** Every container image names a tag (or digest), and the tag is not `latest`. */
export function checkImageTags(set: RenderedSet): Finding[] {
  const out: Finding[] = [];
  for (const t of podTemplates(set)) {
    for (const c of containersOf(t.spec)) {
      const problem = imageTagProblem(asString(c.spec['image']));
      if (problem !== undefined) out.push(finding(t.owner, `container ${c.name}: ${problem}`));
    }
  }
  return out;
}

/** Why an image reference is not pinned to a tag or digest, or undefined when it is. */
export function imageTagProblem(image: string | undefined): string | undefined {
  if (image === undefined || image === '') return 'has no image';
  if (image.includes('@sha256:')) return undefined;
  const lastSlash = image.lastIndexOf('/');
  const colon = image.indexOf(':', lastSlash + 1);
  if (colon < 0) return `image ${image} has no tag`;
  const tag = image.slice(colon + 1);
  if (tag === '' || tag === 'latest') return `image ${image} uses the tag "${tag}"; pin a version`;
  return undefined;
}

/** Namespaced objects carry a namespace; Namespaces enforce Pod Security `restricted`. */
export function checkNamespaces(set: RenderedSet): Finding[] {
  const out: Finding[] = [];
  for (const o of set.objects) {
    if (!isClusterScoped(o.kind) && namespaceOf(o) === undefined) {
      out.push(finding(o, 'has no namespace; it would land in whatever namespace the tool applying it defaults to'));
    }
  }
  for (const ns of ofKind(set, 'Namespace')) {
    const labels = labelsOf(ns.metadata['labels']);
    for (const mode of ['enforce', 'audit', 'warn']) {
      const key = `pod-security.kubernetes.io/${mode}`;
      if (labels[key] !== 'restricted') out.push(finding(ns, `label ${key} must be "restricted", got ${labels[key] ?? 'none'}`));
    }
  }
  const w = conductorWorkload(set);
  if (w !== undefined) {
    const ns = namespaceOf(w.deployment);
    if (ns !== undefined && find(set, 'Namespace', ns) === undefined) {
      out.push(finding(w.deployment, `its namespace ${ns} is not created (with Pod Security labels) by this set`));
    }
  }
  return out;
}

/** The container runs the contract's command, and --config/--data-dir agree with the mounts and the config. */
export function checkConfigWiring(set: RenderedSet): Finding[] {
  const w = conductorWorkload(set);
  if (w === undefined) return [{ object: set.name, message: 'no Deployment runs a container named conductor' }];
  const out: Finding[] = [];
  const args = asArray(w.container['args']).map((a) => asString(a));
  // The contract's arguments, then only config patches (each part's change to the config).
  const extra = args.slice(CONTRACT_ARGS.length);
  const onlyPatches = extra.length % 2 === 0 && extra.every((a, i) => (i % 2 === 0 ? a === '--config-patch' : typeof a === 'string'));
  if (
    w.container['command'] !== undefined ||
    JSON.stringify(args.slice(0, CONTRACT_ARGS.length)) !== JSON.stringify(CONTRACT_ARGS) ||
    !onlyPatches
  ) {
    out.push(
      finding(
        w.deployment,
        `container conductor must run the image's node with args ${JSON.stringify(CONTRACT_ARGS)}, then only --config-patch FILE pairs`,
      ),
    );
  }
  const cfg = appConfig(set);
  if (typeof cfg === 'string') return [...out, finding(w.deployment, cfg)];
  const dataDir = argValue(w.container, '--data-dir');
  if (dataDir !== asString(cfg.config['dataDir'])) {
    out.push(finding(cfg.configMap, `config dataDir ${String(cfg.config['dataDir'])} differs from --data-dir ${String(dataDir)}`));
  }
  if (dataDir !== undefined) {
    const mount = volumeAt(w, dataDir);
    const claim = asString(at(mount?.volume, 'persistentVolumeClaim.claimName'));
    if (claim === undefined) out.push(finding(w.deployment, `the data directory ${dataDir} is not on a PersistentVolumeClaim`));
    else if (find(set, 'PersistentVolumeClaim', claim, namespaceOf(w.deployment)) === undefined) {
      out.push(finding(w.deployment, `PersistentVolumeClaim ${claim} for ${dataDir} is not in the set`));
    }
  }
  const tmp = volumeAt(w, '/tmp');
  if (tmp?.mountPath !== '/tmp' || at(tmp.volume, 'emptyDir') === undefined) {
    out.push(finding(w.deployment, '/tmp must be an emptyDir volume (the root filesystem is read-only)'));
  }
  const grace = asNumber(at(w.pod, 'terminationGracePeriodSeconds')) ?? 30;
  const shutdown = asNumber(cfg.config['shutdownTimeoutMs']);
  if (shutdown !== undefined && grace * 1000 <= shutdown) {
    out.push(finding(w.deployment, `terminationGracePeriodSeconds ${grace}s must exceed the config's shutdownTimeoutMs ${shutdown}ms`));
  }
  return out;
}

/** Probes point at the endpoints the app serves: /healthz, /ready, /startup on its health port. */
export function checkProbes(set: RenderedSet): Finding[] {
  const w = conductorWorkload(set);
  if (w === undefined) return [{ object: set.name, message: 'no Deployment runs a container named conductor' }];
  const cfg = appConfig(set);
  const port = typeof cfg === 'string' ? 8080 : healthPort(cfg.config);
  const out: Finding[] = [];
  const probes = [
    ['livenessProbe', HEALTH_PATHS.liveness],
    ['readinessProbe', HEALTH_PATHS.readiness],
    ['startupProbe', HEALTH_PATHS.startup],
  ] as const;
  for (const [field, path] of probes) {
    const probe = asObject(w.container[field]);
    const httpGet = asObject(probe['httpGet']);
    if (Object.keys(probe).length === 0) {
      out.push(finding(w.deployment, `container conductor: ${field} is missing (the app serves ${path})`));
      continue;
    }
    if (asString(httpGet['path']) !== path) {
      out.push(finding(w.deployment, `container conductor: ${field} must GET ${path}, got ${String(httpGet['path'] ?? 'no httpGet')}`));
    }
    const actual = resolveContainerPort(w.container, httpGet['port']);
    if (actual !== port) {
      out.push(
        finding(
          w.deployment,
          `container conductor: ${field} port ${String(httpGet['port'])} resolves to ${String(actual)}, but the app serves health on ${port}`,
        ),
      );
    }
    const scheme = asString(httpGet['scheme']);
    if (scheme !== undefined && scheme !== 'HTTP') out.push(finding(w.deployment, `container conductor: ${field} must use HTTP`));
  }
  const declared = new Map<number, string>();
  for (const p of asArray(w.container['ports'])) {
    const n = asNumber(at(p, 'containerPort'));
    if (n !== undefined) declared.set(n, asString(at(p, 'name')) ?? '');
  }
  if (typeof cfg !== 'string') {
    for (const [what, n] of [
      ['health', port],
      ['metrics', metricsPort(cfg.config)],
    ] as const) {
      if (!declared.has(n)) out.push(finding(w.deployment, `container conductor does not declare the ${what} port ${n} the config serves`));
    }
  }
  return out;
}

/** The Service exposes 8080 and 9090 on the app's ports and selects the conductor pods. */
export function checkService(set: RenderedSet): Finding[] {
  const w = conductorWorkload(set);
  if (w === undefined) return [{ object: set.name, message: 'no Deployment runs a container named conductor' }];
  const cfg = appConfig(set);
  if (typeof cfg === 'string') return [finding(w.deployment, cfg)];
  const services = ofKind(set, 'Service').filter((s) => selectsMap(at(s, 'spec.selector'), w.podLabels));
  if (services.length === 0) return [finding(w.deployment, 'no Service selects the conductor pods')];
  const out: Finding[] = [];
  for (const svc of services) {
    const targets = asArray(at(svc, 'spec.ports')).map((p) => ({
      port: asNumber(at(p, 'port')),
      target: resolveContainerPort(w.container, at(p, 'targetPort') ?? at(p, 'port')),
    }));
    for (const [what, want] of [
      ['health', healthPort(cfg.config)],
      ['metrics', metricsPort(cfg.config)],
    ] as const) {
      if (!targets.some((t) => t.port === want && t.target === want)) {
        out.push(finding(svc, `must expose the ${what} port ${want} targeting container port ${want}`));
      }
    }
  }
  return out;
}

/** The ServiceMonitor scrapes the app's metrics path through a Service port that reaches it. */
export function checkServiceMonitor(set: RenderedSet): Finding[] {
  const monitors = ofKind(set, 'ServiceMonitor');
  if (monitors.length === 0) return [];
  const w = conductorWorkload(set);
  const cfg = appConfig(set);
  if (w === undefined || typeof cfg === 'string') return monitors.map((m) => finding(m, 'no conductor workload/config to scrape'));
  const out: Finding[] = [];
  for (const m of monitors) {
    const services = ofKind(set, 'Service').filter(
      (s) => namespaceOf(s) === namespaceOf(m) && selectsLabels(at(m, 'spec.selector'), labelsOf(s.metadata['labels'])),
    );
    if (services.length === 0) out.push(finding(m, 'selects no Service'));
    for (const ep of asArray(at(m, 'spec.endpoints'))) {
      const portName = asString(at(ep, 'port'));
      const path = asString(at(ep, 'path')) ?? '/metrics';
      if (path !== metricsPath(cfg.config))
        out.push(finding(m, `endpoint path ${path} is not the app's metrics path ${metricsPath(cfg.config)}`));
      for (const svc of services) {
        const sp = asArray(at(svc, 'spec.ports')).find((p) => at(p, 'name') === portName);
        const target = sp === undefined ? undefined : resolveContainerPort(w.container, at(sp, 'targetPort') ?? at(sp, 'port'));
        if (target !== metricsPort(cfg.config)) {
          out.push(
            finding(m, `endpoint port ${String(portName)} of ${ref(svc)} does not reach the metrics port ${metricsPort(cfg.config)}`),
          );
        }
      }
    }
  }
  return out;
}

/** Every container sets CPU and memory requests and limits. */
export function checkResources(set: RenderedSet): Finding[] {
  const out: Finding[] = [];
  for (const t of podTemplates(set)) {
    for (const c of containersOf(t.spec)) {
      for (const kind of ['requests', 'limits']) {
        for (const res of ['cpu', 'memory']) {
          if (at(c.spec, `resources.${kind}.${res}`) === undefined)
            out.push(finding(t.owner, `container ${c.name}: resources.${kind}.${res} is missing`));
        }
      }
    }
  }
  return out;
}

/** Workload, Service, PDB and NetworkPolicy selectors select the pods they are meant for. */
export function checkSelectors(set: RenderedSet): Finding[] {
  const out: Finding[] = [];
  const templates = podTemplates(set);
  for (const t of templates) {
    if (t.owner.kind !== 'Pod' && !selectsLabels(at(t.owner, 'spec.selector'), t.labels)) {
      out.push(finding(t.owner, 'spec.selector does not select its own pod template'));
    }
  }
  const selectsSome = (o: KObject, selector: unknown, map: boolean): boolean =>
    templates.some(
      (t) => namespaceOf(t.owner) === namespaceOf(o) && (map ? selectsMap(selector, t.labels) : selectsLabels(selector, t.labels)),
    );
  for (const s of ofKind(set, 'Service')) {
    if (!selectsSome(s, at(s, 'spec.selector'), true)) out.push(finding(s, 'selects no pod of this set'));
  }
  for (const p of ofKind(set, 'PodDisruptionBudget')) {
    if (!selectsSome(p, at(p, 'spec.selector'), false)) out.push(finding(p, 'selects no pod of this set'));
  }
  for (const np of ofKind(set, 'NetworkPolicy')) {
    if (!selectsSome(np, at(np, 'spec.podSelector'), false)) out.push(finding(np, 'selects no pod of this set'));
  }
  for (const h of ofKind(set, 'HorizontalPodAutoscaler')) {
    const target = asObject(at(h, 'spec.scaleTargetRef'));
    const kind = asString(target['kind']) ?? '';
    if (find(set, kind, asString(target['name']) ?? '', namespaceOf(h)) === undefined) {
      out.push(finding(h, `scales ${kind} ${String(target['name'])}, which is not in the set`));
    }
  }
  return out;
}

/**
 * More than one replica (fixed or through an HPA) needs a ReadWriteMany data volume and the
 * redis-coordination plugin; a single replica on ReadWriteOnce must use the Recreate strategy.
 */
export function checkScaling(set: RenderedSet): Finding[] {
  const w = conductorWorkload(set);
  if (w === undefined) return [];
  const cfg = appConfig(set);
  const out: Finding[] = [];
  const replicas = asNumber(at(w.deployment, 'spec.replicas')) ?? 1;
  const hpas = ofKind(set, 'HorizontalPodAutoscaler').filter(
    (h) => at(h, 'spec.scaleTargetRef.kind') === 'Deployment' && at(h, 'spec.scaleTargetRef.name') === nameOf(w.deployment),
  );
  const max = Math.max(replicas, ...hpas.map((h) => asNumber(at(h, 'spec.maxReplicas')) ?? 1));
  const dataDir = argValue(w.container, '--data-dir') ?? '/data';
  const claimName = asString(at(volumeAt(w, dataDir)?.volume, 'persistentVolumeClaim.claimName'));
  const claim = claimName === undefined ? undefined : find(set, 'PersistentVolumeClaim', claimName, namespaceOf(w.deployment));
  const modes = asArray(at(claim, 'spec.accessModes'));
  if (max > 1) {
    const why = hpas.length > 0 ? `up to ${max} replicas (HPA)` : `${replicas} replicas`;
    if (claim !== undefined && !modes.includes('ReadWriteMany')) {
      out.push(finding(claim, `${ref(w.deployment)} runs ${why} on this claim, which is not ReadWriteMany`));
    }
    if (typeof cfg !== 'string' && pluginOptions(cfg.config, 'redis-coordination') === undefined) {
      out.push(finding(cfg.configMap, `${ref(w.deployment)} runs ${why} but the config does not enable redis-coordination`));
    }
    if (ofKind(set, 'PodDisruptionBudget').length === 0) out.push(finding(w.deployment, `runs ${why} without a PodDisruptionBudget`));
  } else if (modes.includes('ReadWriteOnce') && at(w.deployment, 'spec.strategy.type') !== 'Recreate') {
    out.push(
      finding(
        w.deployment,
        'one replica on a ReadWriteOnce claim must use strategy Recreate (a rolling update would start a second pod on it)',
      ),
    );
  }
  if (hpas.length > 0 && at(w.deployment, 'spec.replicas') !== undefined) {
    // A GitOps sync puts a declared replica count back over the autoscaler's (Flux has no
    // ignoreDifferences): the HPA must be the only owner.
    out.push(finding(w.deployment, `spec.replicas ${replicas} is set while ${ref(hpas[0]!)} owns the replica count; leave it out`));
  }
  for (const pdb of ofKind(set, 'PodDisruptionBudget')) {
    if (at(pdb, 'spec.unhealthyPodEvictionPolicy') !== 'AlwaysAllow') {
      out.push(finding(pdb, 'unhealthyPodEvictionPolicy is not AlwaysAllow: a pod that is not ready would block node drains'));
    }
  }
  return out;
}

interface Grant {
  group: string;
  resource: string;
  verb: string;
}

/** Conductor's own namespace: nothing (its config is a mounted file; it records no Events). */
const OWN_NAMESPACE_GRANTS: readonly Grant[] = [];

/**
 * What porch-sink needs in the Porch namespace, and all it may have there: exactly the requests
 * its client sends (test/production/rbac-from-requests.test.ts derives them from the simulator).
 */
export const PORCH_GRANTS: readonly Grant[] = [
  { group: 'config.porch.kpt.dev', resource: 'repositories', verb: 'get' },
  ...['list', 'create', 'update', 'delete'].map((verb) => ({ group: 'porch.kpt.dev', resource: 'packagerevisions', verb })),
  ...['get', 'update'].map((verb) => ({ group: 'porch.kpt.dev', resource: 'packagerevisionresources', verb })),
  { group: 'porch.kpt.dev', resource: 'packagerevisions/approval', verb: 'update' },
];

function grantsOf(role: KObject): { grant: Grant; resourceNames: string[] }[] {
  const out: { grant: Grant; resourceNames: string[] }[] = [];
  for (const rule of asArray(role['rules'])) {
    const resourceNames = asArray(at(rule, 'resourceNames')).map((n) => asString(n) ?? '');
    for (const group of asArray(at(rule, 'apiGroups'))) {
      for (const resource of asArray(at(rule, 'resources'))) {
        for (const verb of asArray(at(rule, 'verbs'))) {
          out.push({ grant: { group: String(group), resource: String(resource), verb: String(verb) }, resourceNames });
        }
      }
    }
  }
  return out;
}

const same = (a: Grant, b: Grant): boolean => a.group === b.group && a.resource === b.resource && a.verb === b.verb;
const show = (g: Grant): string => `${g.verb} ${g.resource}${g.group === '' ? '' : `.${g.group}`}`;

/**
 * Least-privilege RBAC: nothing cluster-wide; in Conductor's namespace only its ConfigMap (by
 * name) and Events; in the Porch namespace only what porch-sink needs, and only when porch-sink
 * is configured for that namespace; bindings point at Conductor's ServiceAccount.
 */
export function checkRbac(set: RenderedSet): Finding[] {
  const out: Finding[] = [];
  for (const o of set.objects) {
    if (o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding') out.push(finding(o, 'no cluster-wide RBAC is allowed'));
  }
  const w = conductorWorkload(set);
  if (w === undefined) return out;
  const ownNs = namespaceOf(w.deployment);
  const sa = asString(w.pod['serviceAccountName']) ?? 'default';
  if (find(set, 'ServiceAccount', sa, ownNs) === undefined) out.push(finding(w.deployment, `ServiceAccount ${sa} is not in the set`));
  const cfg = appConfig(set);
  const porch = typeof cfg === 'string' ? undefined : pluginOptions(cfg.config, 'porch-sink');
  const porchNs = asString(porch?.['namespace']);

  for (const role of ofKind(set, 'Role')) {
    const ns = namespaceOf(role);
    const allowed = ns === ownNs ? OWN_NAMESPACE_GRANTS : ns === porchNs ? PORCH_GRANTS : [];
    for (const { grant, resourceNames } of grantsOf(role)) {
      if ([grant.group, grant.resource, grant.verb].includes('*')) {
        out.push(finding(role, `grants a wildcard (${show(grant)})`));
      } else if (!allowed.some((a) => same(a, grant))) {
        out.push(finding(role, `grants ${show(grant)}, which Conductor does not need in namespace ${String(ns)}`));
      } else if (grant.resource === 'configmaps' && (typeof cfg === 'string' || !resourceNames.includes(nameOf(cfg.configMap)))) {
        out.push(finding(role, 'reads ConfigMaps beyond its own config (resourceNames must name it)'));
      }
    }
  }
  if (porchNs !== undefined) {
    const granted = ofKind(set, 'Role')
      .filter((r) => namespaceOf(r) === porchNs && boundTo(set, r, sa, ownNs))
      .flatMap((r) => grantsOf(r).map((g) => g.grant));
    for (const need of PORCH_GRANTS) {
      if (!granted.some((g) => same(g, need))) {
        out.push(
          finding(
            typeof cfg === 'string' ? w.deployment : cfg.configMap,
            `porch-sink needs ${show(need)} in namespace ${porchNs}, which no Role bound to ServiceAccount ${sa} grants`,
          ),
        );
      }
    }
  }
  for (const rb of ofKind(set, 'RoleBinding')) {
    const roleRef = asObject(rb['roleRef']);
    if (roleRef['kind'] !== 'Role' || find(set, 'Role', asString(roleRef['name']) ?? '', namespaceOf(rb)) === undefined) {
      out.push(
        finding(rb, `roleRef ${String(roleRef['kind'])} ${String(roleRef['name'])} is not a Role in namespace ${String(namespaceOf(rb))}`),
      );
    }
    for (const s of asArray(rb['subjects'])) {
      if (at(s, 'kind') !== 'ServiceAccount' || at(s, 'name') !== sa || at(s, 'namespace') !== ownNs) {
        out.push(
          finding(
            rb,
            `subject ${String(at(s, 'kind'))} ${String(at(s, 'namespace'))}/${String(at(s, 'name'))} is not Conductor's ServiceAccount ${String(ownNs)}/${sa}`,
          ),
        );
      }
    }
  }
  return out;
}

function boundTo(set: RenderedSet, role: KObject, sa: string, saNs: string | undefined): boolean {
  return ofKind(set, 'RoleBinding').some(
    (rb) =>
      namespaceOf(rb) === namespaceOf(role) &&
      at(rb, 'roleRef.kind') === 'Role' &&
      at(rb, 'roleRef.name') === nameOf(role) &&
      asArray(rb['subjects']).some((s) => at(s, 'kind') === 'ServiceAccount' && at(s, 'name') === sa && at(s, 'namespace') === saNs),
  );
}

function policiesFor(set: RenderedSet, ns: string | undefined, labels: Record<string, string>, type: 'Ingress' | 'Egress'): KObject[] {
  return ofKind(set, 'NetworkPolicy').filter(
    (p) => namespaceOf(p) === ns && selectsLabels(at(p, 'spec.podSelector'), labels) && asArray(at(p, 'spec.policyTypes')).includes(type),
  );
}

function rulePorts(rule: unknown): { port: number | undefined; protocol: string }[] {
  return asArray(at(rule, 'ports')).map((p) => ({ port: asNumber(at(p, 'port')), protocol: asString(at(p, 'protocol')) ?? 'TCP' }));
}

function allowsPort(rules: unknown[], port: number, protocol = 'TCP'): boolean {
  return rules.some((r) => {
    const ports = rulePorts(r);
    return ports.length === 0 || ports.some((p) => p.protocol === protocol && (p.port === undefined || p.port === port));
  });
}

/**
 * Default deny for every pod, then only: ingress to the metrics port from the monitoring
 * namespace; egress to DNS, the API server, and the OTLP collector and Redis when configured.
 */
export function checkNetworkPolicy(set: RenderedSet): Finding[] {
  const w = conductorWorkload(set);
  if (w === undefined) return [];
  const out: Finding[] = [];
  const ns = namespaceOf(w.deployment);
  const denyAll = ofKind(set, 'NetworkPolicy').find(
    (p) =>
      namespaceOf(p) === ns &&
      Object.keys(asObject(at(p, 'spec.podSelector'))).length === 0 &&
      ['Ingress', 'Egress'].every((t) => asArray(at(p, 'spec.policyTypes')).includes(t)) &&
      asArray(at(p, 'spec.ingress')).length === 0 &&
      asArray(at(p, 'spec.egress')).length === 0,
  );
  if (denyAll === undefined)
    out.push(
      finding(w.deployment, `namespace ${String(ns)} has no default-deny NetworkPolicy (podSelector {}, Ingress and Egress, no rules)`),
    );

  for (const p of ofKind(set, 'NetworkPolicy')) {
    for (const r of asArray(at(p, 'spec.ingress'))) {
      if (asArray(at(r, 'from')).length === 0) out.push(finding(p, 'has an ingress rule open to every source'));
    }
    for (const r of asArray(at(p, 'spec.egress'))) {
      if (asArray(at(r, 'to')).length === 0 && rulePorts(r).length === 0)
        out.push(finding(p, 'has an egress rule open to every destination and port'));
    }
  }

  const ingress = policiesFor(set, ns, w.podLabels, 'Ingress').flatMap((p) => asArray(at(p, 'spec.ingress')));
  const egress = policiesFor(set, ns, w.podLabels, 'Egress').flatMap((p) => asArray(at(p, 'spec.egress')));
  const cfg = appConfig(set);
  const metrics = typeof cfg === 'string' ? 9090 : metricsPort(cfg.config);
  const fromMonitoring = ingress.filter((r) => asArray(at(r, 'from')).some((f) => nsSelectorNames(f).includes('monitoring')));
  if (!allowsPort(fromMonitoring, metrics))
    out.push(finding(w.deployment, `no NetworkPolicy admits the monitoring namespace to the metrics port ${metrics}`));
  const needs: [string, number, string][] = [
    ['DNS', 53, 'UDP'],
    ['the API server', 443, 'TCP'],
  ];
  if (typeof cfg !== 'string') {
    const otel = asString(pluginOptions(cfg.config, 'otel')?.['endpoint']);
    const otelEp = otel === undefined ? undefined : endpointOf(otel);
    if (otelEp !== undefined) needs.push([`the OTLP collector (${otel})`, otelEp.port, 'TCP']);
    const redis = asString(pluginOptions(cfg.config, 'redis-coordination')?.['url']);
    const redisEp = redis === undefined ? undefined : endpointOf(redis);
    if (redisEp !== undefined) needs.push([`Redis (${redis})`, redisEp.port, 'TCP']);
  }
  for (const [what, port, protocol] of needs) {
    if (!allowsPort(egress, port, protocol))
      out.push(finding(w.deployment, `no NetworkPolicy lets the conductor pods reach ${what} on ${protocol} ${port}`));
  }
  return out;
}

function nsSelectorNames(peer: unknown): string[] {
  const labels = labelsOf(at(peer, 'namespaceSelector.matchLabels'));
  const name = labels['kubernetes.io/metadata.name'];
  return name === undefined ? [] : [name];
}

/** Objects a component adds agree with the config: RBAC and egress only for what is enabled. */
export function checkComponentsMatchConfig(set: RenderedSet): Finding[] {
  const cfg = appConfig(set);
  if (typeof cfg === 'string') return [];
  const out: Finding[] = [];
  const porchNs = asString(pluginOptions(cfg.config, 'porch-sink')?.['namespace']);
  for (const role of ofKind(set, 'Role')) {
    if (grantsOf(role).some((g) => g.grant.group === 'porch.kpt.dev') && namespaceOf(role) !== porchNs) {
      out.push(
        finding(
          role,
          `grants Porch access in ${String(namespaceOf(role))}, but the config's porch-sink ${porchNs === undefined ? 'is not enabled' : `uses namespace ${porchNs}`}`,
        ),
      );
    }
  }
  const hasRedisDeployment = find(set, 'Deployment', 'redis') !== undefined;
  if (hasRedisDeployment && pluginOptions(cfg.config, 'redis-coordination') === undefined) {
    out.push(finding(cfg.configMap, 'Redis is deployed but the config does not enable redis-coordination'));
  }
  return out;
}

/** All workload checks, by name, for running on one rendered set. */
export const WORKLOAD_CHECKS: Record<string, (set: RenderedSet) => Finding[]> = {
  checkImageTags,
  checkNamespaces,
  checkConfigWiring,
  checkProbes,
  checkService,
  checkServiceMonitor,
  checkResources,
  checkSelectors,
  checkScaling,
  checkRbac,
  checkNetworkPolicy,
  checkComponentsMatchConfig,
};

/** The parsed config JSON of a set, for tests (throws with the reason when unreachable). */
export function configOf(set: RenderedSet): { config: JsonObject; configMap: KObject; key: string; text: string } {
  const cfg = appConfig(set);
  if (typeof cfg === 'string') throw new Error(`${set.name}: ${cfg}`);
  return cfg;
}
