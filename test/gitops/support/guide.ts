// The production guide's numbers, and a summary of a rendered set to compare with them.

import { isDeepStrictEqual } from 'node:util';
import { appConfig, argValue, conductorWorkload, pluginOptions, volumeAt } from './app.ts';
import {
  asArray,
  asNumber,
  asString,
  at,
  find,
  finding,
  namespaceOf,
  ofKind,
  type Finding,
  type Json,
  type RenderedSet,
} from './objects.ts';

export interface DeploymentSummary {
  replicas: number | undefined;
  hpa: { minReplicas: number | undefined; maxReplicas: number | undefined; cpuUtilization: number | undefined } | undefined;
  pdbMinAvailable: Json | undefined;
  cpu: { request: string | undefined; limit: string | undefined };
  memory: { request: string | undefined; limit: string | undefined };
  storage: { size: string | undefined; accessModes: string[] };
  image: string | undefined;
  config: {
    requestsPerMinute: number | undefined;
    burst: number | undefined;
    maxFileBytes: number | undefined;
    maxFilesPerBatch: number | undefined;
    maxInputLength: number | undefined;
    workers: number | undefined;
    debounceMs: number | undefined;
    plugins: string[];
  };
}

/** What a rendered set deploys, in the guide's terms. */
export function summarize(set: RenderedSet): DeploymentSummary {
  const w = conductorWorkload(set);
  const cfg = appConfig(set);
  const config = typeof cfg === 'string' ? {} : cfg.config;
  const hpa = ofKind(set, 'HorizontalPodAutoscaler').find((h) => at(h, 'spec.scaleTargetRef.name') === 'conductor');
  const cpuMetric = asArray(at(hpa, 'spec.metrics')).find((m) => at(m, 'resource.name') === 'cpu');
  const claimName =
    w === undefined
      ? undefined
      : asString(at(volumeAt(w, argValue(w.container, '--data-dir') ?? '/data')?.volume, 'persistentVolumeClaim.claimName'));
  const claim =
    claimName === undefined
      ? undefined
      : find(set, 'PersistentVolumeClaim', claimName, w === undefined ? undefined : namespaceOf(w.deployment));
  const pdb = ofKind(set, 'PodDisruptionBudget')[0];
  const opt = (plugin: string, key: string): number | undefined => asNumber(pluginOptions(config, plugin)?.[key]);
  return {
    // Under an HPA the Deployment declares no count: the HPA's minimum is the floor.
    replicas: w === undefined ? undefined : (asNumber(at(w.deployment, 'spec.replicas')) ?? asNumber(at(hpa, 'spec.minReplicas')) ?? 1),
    hpa:
      hpa === undefined
        ? undefined
        : {
            minReplicas: asNumber(at(hpa, 'spec.minReplicas')),
            maxReplicas: asNumber(at(hpa, 'spec.maxReplicas')),
            cpuUtilization: asNumber(at(cpuMetric, 'resource.target.averageUtilization')),
          },
    pdbMinAvailable: at(pdb, 'spec.minAvailable'),
    cpu: { request: asString(at(w?.container, 'resources.requests.cpu')), limit: asString(at(w?.container, 'resources.limits.cpu')) },
    memory: {
      request: asString(at(w?.container, 'resources.requests.memory')),
      limit: asString(at(w?.container, 'resources.limits.memory')),
    },
    storage: {
      size: asString(at(claim, 'spec.resources.requests.storage')),
      accessModes: asArray(at(claim, 'spec.accessModes')).map(String),
    },
    image: asString(at(w?.container, 'image')),
    config: {
      requestsPerMinute: opt('rate-limit', 'requestsPerMinute'),
      burst: opt('rate-limit', 'burst'),
      maxFileBytes: opt('fs-source', 'maxFileBytes'),
      maxFilesPerBatch: opt('fs-source', 'maxFilesPerBatch'),
      maxInputLength: opt('sanitize', 'maxInputLength'),
      workers: asNumber(config['concurrency']),
      debounceMs: opt('fs-source', 'debounceMs'),
      plugins: Object.keys((config['plugins'] ?? {}) as object),
    },
  };
}

/** The guide: 2 replicas minimum (HPA 2-10 at 70% CPU), 100m-1000m CPU, 128Mi-512Mi, 10Gi, and its config numbers. */
export const GUIDE_PRODUCTION = {
  minReplicas: 2,
  hpa: { minReplicas: 2, maxReplicas: 10, cpuUtilization: 70 },
  cpu: { request: '100m', limit: '1000m' },
  memory: { request: '128Mi', limit: '512Mi' },
  storage: '10Gi',
  config: {
    requestsPerMinute: 60,
    burst: 10,
    maxFileBytes: 10 * 1024 * 1024,
    maxFilesPerBatch: 100,
    maxInputLength: 10000,
    workers: 4,
    debounceMs: 250,
  },
} as const;

/** A production render matches the guide's numbers. */
export function checkGuideNumbers(set: RenderedSet): Finding[] {
  const s = summarize(set);
  const w = conductorWorkload(set);
  const cfg = appConfig(set);
  const where = w === undefined ? { object: set.name, message: '' } : finding(w.deployment, '');
  const out: Finding[] = [];
  const bad = (message: string, object = where.object): void => void out.push({ object, message });
  if ((s.replicas ?? 0) < GUIDE_PRODUCTION.minReplicas)
    bad(`replicas ${String(s.replicas)} is below the guide's ${GUIDE_PRODUCTION.minReplicas}`);
  if (!isDeepStrictEqual(s.hpa, GUIDE_PRODUCTION.hpa))
    bad(`HPA ${JSON.stringify(s.hpa)} is not the guide's ${JSON.stringify(GUIDE_PRODUCTION.hpa)}`);
  if (!isDeepStrictEqual(s.cpu, GUIDE_PRODUCTION.cpu))
    bad(`CPU ${JSON.stringify(s.cpu)} is not the guide's ${JSON.stringify(GUIDE_PRODUCTION.cpu)}`);
  if (!isDeepStrictEqual(s.memory, GUIDE_PRODUCTION.memory))
    bad(`memory ${JSON.stringify(s.memory)} is not the guide's ${JSON.stringify(GUIDE_PRODUCTION.memory)}`);
  if (s.storage.size !== GUIDE_PRODUCTION.storage)
    bad(`data volume ${String(s.storage.size)} is not the guide's ${GUIDE_PRODUCTION.storage}`);
  const cfgObject = typeof cfg === 'string' ? where.object : finding(cfg.configMap, '').object;
  for (const [key, want] of Object.entries(GUIDE_PRODUCTION.config)) {
    const got = s.config[key as keyof typeof GUIDE_PRODUCTION.config];
    if (got !== want) bad(`config ${key} is ${String(got)}, the guide says ${want}`, cfgObject);
  }
  return out;
}
