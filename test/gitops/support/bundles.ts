// Checks on the Argo CD and Flux bundles: every path they deploy exists and renders, and what
// it renders is allowed where they send it.

import { existsSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import { conductorWorkload } from './app.ts';
import {
  asArray,
  asObject,
  asString,
  at,
  finding,
  isClusterScoped,
  isObject,
  nameOf,
  namespaceOf,
  ofKind,
  type Finding,
  type Json,
  type JsonObject,
  type KObject,
  type RenderedSet,
} from './objects.ts';
import { renderDir, REPO_ROOT } from './render.ts';

/** The placeholder repository every bundle points at. */
export const REPO_URL = 'https://example.com/conductor.git';

/** Resolves a repo-relative path from a bundle; a reason string when it cannot be used. */
export function repoPath(path: string | undefined, root = REPO_ROOT): string | { error: string } {
  if (path === undefined || path === '') return { error: 'has no path' };
  const clean = normalize(path.replace(/^\.\//, ''));
  if (isAbsolute(clean) || clean.startsWith('..')) return { error: `path ${path} leaves the repository` };
  const dir = join(root, clean);
  if (!existsSync(dir)) return { error: `path ${path} does not exist in the repository` };
  if (!['kustomization.yaml', 'kustomization.yml', 'Kustomization'].some((f) => existsSync(join(dir, f)))) {
    return { error: `path ${path} has no kustomization.yaml` };
  }
  return dir;
}

async function renderPath(owner: KObject, path: string | undefined, root: string): Promise<RenderedSet | Finding> {
  const dir = repoPath(path, root);
  if (typeof dir !== 'string') return finding(owner, dir.error);
  try {
    return await renderDir(dir);
  } catch (error) {
    return finding(owner, `path ${String(path)} does not render: ${(error as Error).message}`);
  }
}

function glob(pattern: string | undefined, value: string | undefined): boolean {
  if (pattern === undefined) return value === undefined;
  if (value === undefined) return false;
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(value);
}

function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '';
}

/** Expands `{{.key}}` / `{{ .key }}` in every string of a template (Argo CD goTemplate, list generator). */
export function expandTemplate(template: Json, params: Record<string, string>, missing: string[]): Json {
  if (typeof template === 'string') {
    return template.replace(/\{\{-?\s*\.([A-Za-z0-9_]+)\s*-?\}\}/g, (_, key: string) => {
      const value = params[key];
      if (value === undefined) {
        missing.push(key);
        return '';
      }
      return value;
    });
  }
  if (Array.isArray(template)) return template.map((t) => expandTemplate(t, params, missing));
  if (isObject(template)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(template)) out[k] = expandTemplate(v, params, missing);
    return out;
  }
  return template;
}

/** The Applications an ApplicationSet generates (list generators only), or findings. */
export function expandApplicationSet(appSet: KObject): { apps: KObject[]; findings: Finding[] } {
  const apps: KObject[] = [];
  const findings: Finding[] = [];
  if (at(appSet, 'spec.goTemplate') !== true) findings.push(finding(appSet, 'spec.goTemplate must be true (the template uses {{.key}})'));
  const template = asObject(at(appSet, 'spec.template'));
  for (const [i, generator] of asArray(at(appSet, 'spec.generators')).entries()) {
    const list = at(generator, 'list.elements');
    if (list === undefined) {
      findings.push(finding(appSet, `generator ${i} is not a list generator; its Applications cannot be checked offline`));
      continue;
    }
    for (const element of asArray(list)) {
      const params: Record<string, string> = {};
      for (const [k, v] of Object.entries(asObject(element))) params[k] = typeof v === 'string' ? v : JSON.stringify(v);
      const missing: string[] = [];
      const expanded = asObject(expandTemplate(template, params, missing));
      if (missing.length > 0) {
        findings.push(finding(appSet, `element ${JSON.stringify(element)} lacks ${[...new Set(missing)].join(', ')} used by the template`));
      }
      const metadata = { ...asObject(expanded['metadata']), namespace: namespaceOf(appSet) ?? 'argocd' };
      apps.push({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata, spec: expanded['spec'] ?? {} });
    }
  }
  return { apps, findings };
}

async function checkApplication(app: KObject, reportOn: KObject, projects: Map<string, KObject>, root: string): Promise<Finding[]> {
  const out: Finding[] = [];
  const label = reportOn === app ? '' : `generated Application ${nameOf(app)}: `;
  const report = (message: string): void => void out.push(finding(reportOn, label + message));
  const projectName = asString(at(app, 'spec.project')) ?? '';
  const project = projects.get(projectName);
  if (project === undefined) report(`project ${projectName} is not an AppProject in this bundle`);
  const sources = at(app, 'spec.sources') === undefined ? [at(app, 'spec.source')] : asArray(at(app, 'spec.sources'));
  const destination = asObject(at(app, 'spec.destination'));
  const destName = asString(destination['name']);
  const destServer = asString(destination['server']);
  const destNs = asString(destination['namespace']);
  const allowedDest = (ns: string | undefined): boolean =>
    asArray(at(project, 'spec.destinations')).some(
      (d) =>
        (destName === undefined || glob(asString(at(d, 'name')) ?? '*', destName)) &&
        (destServer === undefined || glob(asString(at(d, 'server')) ?? '*', destServer)) &&
        glob(asString(at(d, 'namespace')) ?? '*', ns),
    );
  if (project !== undefined && !allowedDest(destNs))
    report(`destination ${destName ?? destServer}/${String(destNs)} is not allowed by AppProject ${projectName}`);

  for (const source of sources) {
    const repoURL = asString(at(source, 'repoURL'));
    if (repoURL !== REPO_URL) report(`source repoURL ${String(repoURL)} is not ${REPO_URL}`);
    if (project !== undefined && !asArray(at(project, 'spec.sourceRepos')).some((r) => glob(asString(r), repoURL))) {
      report(`source repoURL ${String(repoURL)} is not in AppProject ${projectName}'s sourceRepos`);
    }
    const path = asString(at(source, 'path'));
    const rendered = await renderPath(reportOn, path, root);
    if (!('objects' in rendered)) {
      out.push({ object: rendered.object, message: label + rendered.message });
      continue;
    }
    const w = conductorWorkload(rendered);
    if (w !== undefined && namespaceOf(w.deployment) !== destNs) {
      report(
        `destination namespace ${String(destNs)} differs from the namespace ${String(namespaceOf(w.deployment))} that ${path} deploys Conductor to`,
      );
    }
    if (project === undefined) continue;
    for (const o of rendered.objects) {
      const ns = isClusterScoped(o.kind) ? undefined : (namespaceOf(o) ?? destNs);
      const list = isClusterScoped(o.kind) ? 'clusterResourceWhitelist' : 'namespaceResourceWhitelist';
      const whitelist = at(project, `spec.${list}`);
      const permitted =
        whitelist === undefined
          ? !isClusterScoped(o.kind)
          : asArray(whitelist).some((e) => glob(asString(at(e, 'group')), groupOf(o.apiVersion)) && glob(asString(at(e, 'kind')), o.kind));
      if (!permitted) report(`${path} renders ${o.kind} ${nameOf(o)}, which AppProject ${projectName}'s ${list} does not permit`);
      if (ns !== undefined && !allowedDest(ns))
        report(
          `${path} renders ${o.kind} ${ns}/${nameOf(o)} into namespace ${ns}, which AppProject ${projectName} does not allow on ${destName ?? destServer}`,
        );
    }
  }
  return out;
}

/**
 * Argo CD: every Application (and every Application an ApplicationSet generates) uses an
 * AppProject of the bundle, the placeholder repo, a path that exists and renders, and a
 * destination (cluster, namespaces, kinds) that its AppProject allows.
 */
export async function checkArgoCd(bundle: RenderedSet, root = REPO_ROOT): Promise<Finding[]> {
  const projects = new Map(ofKind(bundle, 'AppProject').map((p) => [nameOf(p), p] as const));
  const out: Finding[] = [];
  for (const app of ofKind(bundle, 'Application')) out.push(...(await checkApplication(app, app, projects, root)));
  for (const appSet of ofKind(bundle, 'ApplicationSet')) {
    const { apps, findings } = expandApplicationSet(appSet);
    out.push(...findings);
    if (apps.length === 0) out.push(finding(appSet, 'generates no Application'));
    for (const app of apps) out.push(...(await checkApplication(app, appSet, projects, root)));
  }
  return out;
}

/**
 * Flux: every Kustomization's sourceRef is a GitRepository of the bundle on the placeholder
 * repo, its path exists and renders, its dependsOn names exist without cycles, its healthChecks
 * name objects that path renders (and are not silently ignored because of wait: true), and no
 * targetNamespace moves objects out of the namespaces they were written for.
 */
export async function checkFlux(bundle: RenderedSet, root = REPO_ROOT): Promise<Finding[]> {
  const out: Finding[] = [];
  const key = (ns: string | undefined, name: string | undefined): string => `${String(ns)}/${String(name)}`;
  const repos = new Map(ofKind(bundle, 'GitRepository').map((r) => [key(namespaceOf(r), nameOf(r)), r] as const));
  for (const r of repos.values()) {
    if (at(r, 'spec.url') !== REPO_URL) out.push(finding(r, `url ${String(at(r, 'spec.url'))} is not ${REPO_URL}`));
  }
  const kustomizations = ofKind(bundle, 'Kustomization').filter((k) => k.apiVersion.startsWith('kustomize.toolkit.fluxcd.io/'));
  const byKey = new Map(kustomizations.map((k) => [key(namespaceOf(k), nameOf(k)), k] as const));
  for (const k of kustomizations) {
    const ns = namespaceOf(k);
    const src = asObject(at(k, 'spec.sourceRef'));
    if (src['kind'] !== 'GitRepository' || !repos.has(key(asString(src['namespace']) ?? ns, asString(src['name'])))) {
      out.push(finding(k, `sourceRef ${String(src['kind'])} ${String(src['name'])} is not a GitRepository of this bundle`));
    }
    for (const dep of asArray(at(k, 'spec.dependsOn'))) {
      if (!byKey.has(key(asString(at(dep, 'namespace')) ?? ns, asString(at(dep, 'name'))))) {
        out.push(finding(k, `dependsOn ${String(at(dep, 'name'))}, which is not a Kustomization of this bundle`));
      }
    }
    const path = asString(at(k, 'spec.path'));
    const rendered = await renderPath(k, path, root);
    if (!('objects' in rendered)) {
      out.push(rendered);
      continue;
    }
    const healthChecks = asArray(at(k, 'spec.healthChecks'));
    if (at(k, 'spec.wait') === true && healthChecks.length > 0) {
      out.push(finding(k, 'sets both wait: true and healthChecks; Flux ignores healthChecks when wait is true'));
    }
    if (at(k, 'spec.wait') !== true && healthChecks.length === 0) out.push(finding(k, 'neither waits nor health-checks anything'));
    for (const hc of healthChecks) {
      const found = rendered.objects.some(
        (o) =>
          o.apiVersion === at(hc, 'apiVersion') &&
          o.kind === at(hc, 'kind') &&
          nameOf(o) === at(hc, 'name') &&
          namespaceOf(o) === (asString(at(hc, 'namespace')) ?? ns),
      );
      if (!found) {
        out.push(
          finding(
            k,
            `healthCheck ${String(at(hc, 'kind'))} ${String(at(hc, 'namespace'))}/${String(at(hc, 'name'))} is not rendered by ${path}`,
          ),
        );
      }
    }
    const namespaces = new Set(rendered.objects.map((o) => namespaceOf(o)).filter((n) => n !== undefined));
    if (at(k, 'spec.targetNamespace') !== undefined && namespaces.size > 1) {
      out.push(finding(k, `targetNamespace would move objects of ${[...namespaces].join(', ')} into one namespace`));
    }
  }
  // dependsOn cycles
  const visiting = new Set<string>();
  const done = new Set<string>();
  const visit = (k: KObject, trail: string[]): void => {
    const id = key(namespaceOf(k), nameOf(k));
    if (done.has(id)) return;
    if (visiting.has(id)) {
      out.push(finding(k, `dependsOn forms a cycle: ${[...trail, nameOf(k)].join(' -> ')}`));
      return;
    }
    visiting.add(id);
    for (const dep of asArray(at(k, 'spec.dependsOn'))) {
      const next = byKey.get(key(asString(at(dep, 'namespace')) ?? namespaceOf(k), asString(at(dep, 'name'))));
      if (next !== undefined) visit(next, [...trail, nameOf(k)]);
    }
    visiting.delete(id);
    done.add(id);
  };
  for (const k of kustomizations) visit(k, []);
  return out;
}
