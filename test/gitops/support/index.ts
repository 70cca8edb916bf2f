// The gitops check: rendering, per-property checks, and the bundle's metric names.

import { checkMetricNames } from './metrics.ts';
import type { Finding, RenderedSet } from './objects.ts';
import { checkGuideSecurityContext, checkPodSecurityRestricted, checkReadOnlyRootFilesystem } from './pod-security.ts';
import { checkSchemas } from './schema.ts';
import { WORKLOAD_CHECKS } from './workload.ts';

export { metricNamesUsedByBundle, EXPORTED_METRIC_NAMES, SYNTHETIC_METRIC_NAMES } from './metrics.ts';
export type { Finding, KObject, RenderedSet } from './objects.ts';

/** Every synchronous per-property check, by name. */
export const STATIC_CHECKS: Record<string, (set: RenderedSet) => Finding[]> = {
  checkSchemas,
  checkPodSecurityRestricted,
  checkGuideSecurityContext,
  checkReadOnlyRootFilesystem,
  ...WORKLOAD_CHECKS,
  checkMetricNames,
};

export function runStaticChecks(set: RenderedSet): Finding[] {
  return Object.values(STATIC_CHECKS).flatMap((check) => check(set));
}
