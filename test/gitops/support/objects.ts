// Rendered Kubernetes objects as plain JSON, and small typed accessors over them.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface KObject extends JsonObject {
  apiVersion: string;
  kind: string;
  metadata: JsonObject;
}

/** One rendered manifest set: what `kubectl kustomize <dir>` printed, parsed. */
export interface RenderedSet {
  /** What was rendered, e.g. "overlay production" or "base + ha + otel". */
  name: string;
  objects: KObject[];
}

/** One broken property, naming the object it was found on. */
export interface Finding {
  /** e.g. "Deployment conductor/conductor" (kind namespace/name). */
  object: string;
  message: string;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asObject(value: unknown): JsonObject {
  return isObject(value) ? value : {};
}

export function asArray(value: unknown): Json[] {
  return Array.isArray(value) ? (value as Json[]) : [];
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function asNumber(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

/** Reads a dotted path ("spec.template.spec") from a JSON value; undefined when absent. */
export function at(value: unknown, path: string): Json | undefined {
  let current: unknown = value;
  for (const key of path.split('.')) {
    if (!isObject(current)) return undefined;
    current = current[key];
  }
  return current as Json | undefined;
}

export function isKObject(value: unknown): value is KObject {
  return isObject(value) && typeof value['apiVersion'] === 'string' && typeof value['kind'] === 'string' && isObject(value['metadata']);
}

export function nameOf(o: KObject): string {
  return asString(o.metadata['name']) ?? '<unnamed>';
}

export function namespaceOf(o: KObject): string | undefined {
  return asString(o.metadata['namespace']);
}

export function labelsOf(value: unknown): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(asObject(value))) if (typeof v === 'string') labels[k] = v;
  return labels;
}

/** "Kind namespace/name", or "Kind name" for cluster-scoped objects. */
export function ref(o: KObject): string {
  const ns = namespaceOf(o);
  return `${o.kind} ${ns === undefined ? '' : `${ns}/`}${nameOf(o)}`;
}

export function finding(o: KObject, message: string): Finding {
  return { object: ref(o), message };
}

export function formatFindings(findings: readonly Finding[]): string {
  return findings.map((f) => `${f.object}: ${f.message}`).join('\n');
}

export function ofKind(set: RenderedSet, kind: string): KObject[] {
  return set.objects.filter((o) => o.kind === kind);
}

export function find(set: RenderedSet, kind: string, name: string, namespace?: string): KObject | undefined {
  return set.objects.find((o) => o.kind === kind && nameOf(o) === name && (namespace === undefined || namespaceOf(o) === namespace));
}

/** A deep copy that a test may break without touching the original. */
export function copySet(set: RenderedSet): RenderedSet {
  return { name: `${set.name} (modified)`, objects: structuredClone(set.objects) };
}

/** Whether a LabelSelector ({matchLabels, matchExpressions}) selects these labels. */
export function selectsLabels(selector: unknown, labels: Record<string, string>): boolean {
  const sel = asObject(selector);
  const matchLabels = labelsOf(sel['matchLabels']);
  if (!Object.entries(matchLabels).every(([k, v]) => labels[k] === v)) return false;
  return asArray(sel['matchExpressions']).every((e) => {
    const key = asString(at(e, 'key')) ?? '';
    const values = asArray(at(e, 'values')).filter((v): v is string => typeof v === 'string');
    const value = labels[key];
    switch (asString(at(e, 'operator'))) {
      case 'In':
        return value !== undefined && values.includes(value);
      case 'NotIn':
        return value === undefined || !values.includes(value);
      case 'Exists':
        return value !== undefined;
      case 'DoesNotExist':
        return value === undefined;
      default:
        return false;
    }
  });
}

/** Whether a plain map selector (a Service's spec.selector) selects these labels. */
export function selectsMap(selector: unknown, labels: Record<string, string>): boolean {
  const sel = labelsOf(selector);
  return Object.keys(sel).length > 0 && Object.entries(sel).every(([k, v]) => labels[k] === v);
}

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'APIService',
]);

export function isClusterScoped(kind: string): boolean {
  return CLUSTER_SCOPED.has(kind);
}

export interface PodTemplate {
  owner: KObject;
  /** The pod spec (spec.template.spec, or spec for a Pod). */
  spec: JsonObject;
  /** The pod template's labels. */
  labels: Record<string, string>;
}

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);

/** Every pod template in a set: Pods, workloads' spec.template, CronJobs' job template. */
export function podTemplates(set: RenderedSet): PodTemplate[] {
  const out: PodTemplate[] = [];
  for (const o of set.objects) {
    if (o.kind === 'Pod') {
      out.push({ owner: o, spec: asObject(o['spec']), labels: labelsOf(o.metadata['labels']) });
    } else if (WORKLOADS.has(o.kind)) {
      out.push({
        owner: o,
        spec: asObject(at(o, 'spec.template.spec')),
        labels: labelsOf(at(o, 'spec.template.metadata.labels')),
      });
    } else if (o.kind === 'CronJob') {
      out.push({
        owner: o,
        spec: asObject(at(o, 'spec.jobTemplate.spec.template.spec')),
        labels: labelsOf(at(o, 'spec.jobTemplate.spec.template.metadata.labels')),
      });
    }
  }
  return out;
}

export interface Container {
  name: string;
  /** "containers", "initContainers" or "ephemeralContainers". */
  list: string;
  spec: JsonObject;
}

export function containersOf(pod: JsonObject): Container[] {
  const out: Container[] = [];
  for (const list of ['initContainers', 'containers', 'ephemeralContainers']) {
    for (const c of asArray(pod[list])) {
      const spec = asObject(c);
      out.push({ name: asString(spec['name']) ?? '<unnamed>', list, spec });
    }
  }
  return out;
}
