// Decoding request bodies the way the apiserver's JSON decoder does: a value of the wrong JSON
// type is a 400 "cannot be handled as a …" (docs/porch.md §Errors, e.g. `spec.revision: "v1"`), and
// unknown fields are dropped (docs/porch.md §Content types).

import { badRequest } from './k8s-status.ts';
import type { Condition, JsonObject } from './types.ts';

const API_VERSION = 'porch.kpt.dev/v1alpha1';

export interface DecodedMetadata {
  name: string;
  namespace: string;
  resourceVersion: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: JsonObject[];
}

export interface DecodedRevision {
  metadata: DecodedMetadata;
  spec: {
    packageName: string;
    repository: string;
    workspaceName: string;
    revision: number;
    parent?: { name: string };
    lifecycle: string;
    /** undefined when absent or null (Go nil slice). */
    tasks?: JsonObject[];
    readinessGates?: Array<{ conditionType: string }>;
    packageMetadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  };
  status: { conditions?: Condition[] };
  /** spec keys the decoder dropped, reported back in a Warning header. */
  unknownFields: string[];
}

export interface DecodedResources {
  metadata: DecodedMetadata;
  resources: Record<string, string>;
}

function jsonType(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'object';
  if (typeof value === 'number') return `number ${value}`;
  if (typeof value === 'boolean') return 'bool';
  return typeof value;
}

class Decoder {
  private readonly kind: string;

  constructor(kind: string) {
    this.kind = kind;
  }

  fail(value: unknown, goStruct: string, path: string, goType: string): never {
    throw badRequest(
      `${this.kind} in version "v1alpha1" cannot be handled as a ${this.kind}: json: cannot unmarshal ${jsonType(value).replace(/^number .*/, (t) => (goType === 'string' ? 'number' : t))} into Go struct field ${goStruct}.${path} of type ${goType}`,
    );
  }

  object(value: unknown, goStruct: string, path: string, goType: string): JsonObject | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'object' || Array.isArray(value)) this.fail(value, goStruct, path, goType);
    return value as JsonObject;
  }

  string(value: unknown, goStruct: string, path: string): string {
    if (value === undefined || value === null) return '';
    if (typeof value !== 'string') this.fail(value, goStruct, path, 'string');
    return value;
  }

  int(value: unknown, goStruct: string, path: string): number {
    if (value === undefined || value === null) return 0;
    if (typeof value !== 'number' || !Number.isInteger(value)) this.fail(value, goStruct, path, 'int');
    return value;
  }

  stringMap(value: unknown, goStruct: string, path: string): Record<string, string> | undefined {
    const obj = this.object(value, goStruct, path, 'map[string]string');
    if (obj === undefined) return undefined;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(obj)) out[k] = this.string(v, goStruct, path);
    return out;
  }

  array(value: unknown, goStruct: string, path: string, goType: string): unknown[] | undefined {
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) this.fail(value, goStruct, path, goType);
    return value;
  }

  metadata(body: JsonObject): DecodedMetadata {
    const meta = this.object(body['metadata'], this.kind, 'metadata', 'v1.ObjectMeta') ?? {};
    const decoded: DecodedMetadata = {
      name: this.string(meta['name'], 'ObjectMeta', 'metadata.name'),
      namespace: this.string(meta['namespace'], 'ObjectMeta', 'metadata.namespace'),
      resourceVersion: this.string(meta['resourceVersion'], 'ObjectMeta', 'metadata.resourceVersion'),
    };
    const labels = this.stringMap(meta['labels'], 'ObjectMeta', 'metadata.labels');
    if (labels !== undefined) decoded.labels = labels;
    const annotations = this.stringMap(meta['annotations'], 'ObjectMeta', 'metadata.annotations');
    if (annotations !== undefined) decoded.annotations = annotations;
    const finalizers = this.array(meta['finalizers'], 'ObjectMeta', 'metadata.finalizers', '[]string');
    if (finalizers !== undefined) decoded.finalizers = finalizers.map((f) => this.string(f, 'ObjectMeta', 'metadata.finalizers'));
    const owners = this.array(meta['ownerReferences'], 'ObjectMeta', 'metadata.ownerReferences', '[]v1.OwnerReference');
    if (owners !== undefined) {
      decoded.ownerReferences = owners.map((o) => this.object(o, 'ObjectMeta', 'metadata.ownerReferences', 'v1.OwnerReference') ?? {});
    }
    return decoded;
  }

  typeMeta(body: JsonObject, expectedKind: string): void {
    const apiVersion = body['apiVersion'];
    const kind = body['kind'];
    if (apiVersion !== undefined && apiVersion !== '' && apiVersion !== API_VERSION) {
      throw badRequest(`the API version in the data (${String(apiVersion)}) does not match the expected API version (${API_VERSION})`);
    }
    if (kind !== undefined && kind !== '' && kind !== expectedKind) {
      throw badRequest(
        `${expectedKind} in version "v1alpha1" cannot be handled as a ${expectedKind}: no kind "${String(kind)}" is registered for version "${API_VERSION}"`,
      );
    }
  }
}

const KNOWN_SPEC_FIELDS = new Set([
  'packageName',
  'repository',
  'workspaceName',
  'revision',
  'parent',
  'lifecycle',
  'tasks',
  'readinessGates',
  'packageMetadata',
]);

export function decodeRevision(body: unknown): DecodedRevision {
  const d = new Decoder('PackageRevision');
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest(
      `PackageRevision in version "v1alpha1" cannot be handled as a PackageRevision: json: cannot unmarshal ${jsonType(body)} into Go value of type v1alpha1.PackageRevision`,
    );
  }
  const obj = body as JsonObject;
  d.typeMeta(obj, 'PackageRevision');
  const metadata = d.metadata(obj);
  const S = 'PackageRevisionSpec';
  const spec = d.object(obj['spec'], 'PackageRevision', 'spec', 'v1alpha1.PackageRevisionSpec') ?? {};
  const decoded: DecodedRevision = {
    metadata,
    spec: {
      packageName: d.string(spec['packageName'], S, 'spec.packageName'),
      repository: d.string(spec['repository'], S, 'spec.repository'),
      workspaceName: d.string(spec['workspaceName'], S, 'spec.workspaceName'),
      revision: d.int(spec['revision'], S, 'spec.revision'),
      lifecycle: d.string(spec['lifecycle'], S, 'spec.lifecycle'),
    },
    status: {},
    unknownFields: Object.keys(spec)
      .filter((k) => !KNOWN_SPEC_FIELDS.has(k))
      .map((k) => `spec.${k}`),
  };
  const parent = d.object(spec['parent'], S, 'spec.parent', 'v1alpha1.ParentReference');
  if (parent !== undefined) decoded.spec.parent = { name: d.string(parent['name'], 'ParentReference', 'spec.parent.name') };
  const tasks = d.array(spec['tasks'], S, 'spec.tasks', '[]v1alpha1.Task');
  if (tasks !== undefined) {
    decoded.spec.tasks = tasks.map((t) => {
      const task = d.object(t, S, 'spec.tasks', 'v1alpha1.Task') ?? {};
      d.string(task['type'], 'Task', 'spec.tasks.type');
      return structuredClone(task);
    });
  }
  const gates = d.array(spec['readinessGates'], S, 'spec.readinessGates', '[]v1alpha1.ReadinessGate');
  if (gates !== undefined) {
    decoded.spec.readinessGates = gates.map((g) => ({
      conditionType: d.string(
        (d.object(g, S, 'spec.readinessGates', 'v1alpha1.ReadinessGate') ?? {})['conditionType'],
        'ReadinessGate',
        'spec.readinessGates.conditionType',
      ),
    }));
  }
  const packageMetadata = d.object(spec['packageMetadata'], S, 'spec.packageMetadata', 'v1alpha1.PackageMetadata');
  if (packageMetadata !== undefined) {
    decoded.spec.packageMetadata = {};
    const labels = d.stringMap(packageMetadata['labels'], 'PackageMetadata', 'spec.packageMetadata.labels');
    const annotations = d.stringMap(packageMetadata['annotations'], 'PackageMetadata', 'spec.packageMetadata.annotations');
    if (labels !== undefined) decoded.spec.packageMetadata.labels = labels;
    if (annotations !== undefined) decoded.spec.packageMetadata.annotations = annotations;
  }
  const status = d.object(obj['status'], 'PackageRevision', 'status', 'v1alpha1.PackageRevisionStatus') ?? {};
  const conditions = d.array(status['conditions'], 'PackageRevisionStatus', 'status.conditions', '[]v1alpha1.Condition');
  if (conditions !== undefined) {
    decoded.status.conditions = conditions.map((c) => {
      const o = d.object(c, 'PackageRevisionStatus', 'status.conditions', 'v1alpha1.Condition') ?? {};
      const condition: Condition = {
        type: d.string(o['type'], 'Condition', 'status.conditions.type'),
        status: d.string(o['status'], 'Condition', 'status.conditions.status'),
      };
      const reason = d.string(o['reason'], 'Condition', 'status.conditions.reason');
      const message = d.string(o['message'], 'Condition', 'status.conditions.message');
      if (reason !== '') condition.reason = reason;
      if (message !== '') condition.message = message;
      return condition;
    });
  }
  return decoded;
}

export function decodeResources(body: unknown): DecodedResources {
  const d = new Decoder('PackageRevisionResources');
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest(
      `PackageRevisionResources in version "v1alpha1" cannot be handled as a PackageRevisionResources: json: cannot unmarshal ${jsonType(body)} into Go value of type v1alpha1.PackageRevisionResources`,
    );
  }
  const obj = body as JsonObject;
  d.typeMeta(obj, 'PackageRevisionResources');
  const metadata = d.metadata(obj);
  const spec = d.object(obj['spec'], 'PackageRevisionResources', 'spec', 'v1alpha1.PackageRevisionResourcesSpec') ?? {};
  const resources = d.stringMap(spec['resources'], 'PackageRevisionResourcesSpec', 'spec.resources') ?? {};
  return { metadata, resources };
}

/**
 * Go-struct equality as `equality.Semantic.DeepEqual` sees it after decoding: zero values and
 * empty collections equal absent ones (used for "spec unchanged" on published revisions).
 */
export function semanticNormalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? undefined : value.map(semanticNormalize);
  if (value !== null && typeof value === 'object') {
    const out: JsonObject = {};
    for (const key of Object.keys(value).sort()) {
      const v = semanticNormalize((value as JsonObject)[key]);
      if (v !== undefined) out[key] = v;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  if (value === null || value === '' || value === 0 || value === false) return undefined;
  return value;
}
