// Validates objects against the Kubernetes OpenAPI schemas and the Argo CD, Flux and
// prometheus-operator CRD schemas, as compiled into the kubernetes-models packages.

import * as argoV1alpha1 from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1';
import * as fluxKustomizeV1 from '@kubernetes-models/flux-cd/kustomize.toolkit.fluxcd.io/v1';
import * as fluxSourceV1 from '@kubernetes-models/flux-cd/source.toolkit.fluxcd.io/v1';
import * as monitoringV1 from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import * as appsV1 from 'kubernetes-models/apps/v1';
import * as autoscalingV2 from 'kubernetes-models/autoscaling/v2';
import * as batchV1 from 'kubernetes-models/batch/v1';
import * as networkingV1 from 'kubernetes-models/networking.k8s.io/v1';
import * as policyV1 from 'kubernetes-models/policy/v1';
import * as rbacV1 from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import * as coreV1 from 'kubernetes-models/v1';
import { finding, type Finding, type KObject, type RenderedSet } from './objects.ts';

interface ModelClass {
  apiVersion?: unknown;
  kind?: unknown;
  new (data: object): { validate(): void };
}

function isModelClass(value: unknown): value is ModelClass {
  if (typeof value !== 'function') return false;
  const candidate = value as { apiVersion?: unknown; kind?: unknown; prototype?: { validate?: unknown } };
  return (
    typeof candidate.apiVersion === 'string' && typeof candidate.kind === 'string' && typeof candidate.prototype?.validate === 'function'
  );
}

const MODULES: readonly object[] = [
  coreV1,
  appsV1,
  autoscalingV2,
  batchV1,
  networkingV1,
  policyV1,
  rbacV1,
  argoV1alpha1,
  fluxSourceV1,
  fluxKustomizeV1,
  monitoringV1,
];

let registry: Map<string, ModelClass> | undefined;

/** apiVersion/kind → the model class that validates it. */
export function schemaRegistry(): Map<string, ModelClass> {
  if (registry === undefined) {
    registry = new Map();
    for (const mod of MODULES) {
      for (const value of Object.values(mod)) {
        if (isModelClass(value)) registry.set(`${String(value.apiVersion)}/${String(value.kind)}`, value);
      }
    }
  }
  return registry;
}

/** Validation errors of one object, or a note that no schema is known for its kind. */
export function schemaErrors(o: KObject): string[] {
  const model = schemaRegistry().get(`${o.apiVersion}/${o.kind}`);
  if (model === undefined) return [`no schema known for ${o.apiVersion} ${o.kind}`];
  try {
    new model(o).validate();
    return [];
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return [`schema: ${message}`];
  }
}

/** Every object validates against its Kubernetes or CRD schema. */
export function checkSchemas(set: RenderedSet): Finding[] {
  return set.objects.flatMap((o) => schemaErrors(o).map((m) => finding(o, m)));
}
