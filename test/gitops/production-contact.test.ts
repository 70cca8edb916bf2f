// Issue 14, acceptance 5: the production render (`kubectl kustomize kustomize/overlays/production`)
// has no spec.replicas under the HPA and a PDB with unhealthyPodEvictionPolicy AlwaysAllow; each
// component brings its own config patch (no overlay holds a copy of the config); the readiness
// decision is documented with its reason.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { appConfig, conductorWorkload } from './support/app.ts';
import { checkScaling } from './support/workload.ts';
import { at, ofKind, type KObject } from './support/objects.ts';
import { breakObject } from './support/breakage.ts';
import { OVERLAYS, REPO_ROOT, renderOverlay } from './support/render.ts';
import { existsSync } from 'node:fs';

describe('production contact', () => {
  it('production: the HPA owns the replica count (no spec.replicas), the PDB lets a drain evict unhealthy pods', async () => {
    const set = await renderOverlay('production');
    const w = conductorWorkload(set);
    assert.ok(w);
    const [hpa] = ofKind(set, 'HorizontalPodAutoscaler');
    assert.equal(at(hpa, 'spec.scaleTargetRef.name'), w.deployment.metadata['name']);
    assert.equal(at(w.deployment, 'spec.replicas'), undefined, 'no spec.replicas under the HPA');
    const [pdb] = ofKind(set, 'PodDisruptionBudget');
    assert.equal(at(pdb, 'spec.unhealthyPodEvictionPolicy'), 'AlwaysAllow');
    assert.deepEqual(checkScaling(set), []);
    // The check catches both, so it can fail.
    const withReplicas = breakObject(set, 'Deployment', 'conductor', (d) => void ((d['spec'] as Record<string, unknown>)['replicas'] = 2));
    assert.ok(checkScaling(withReplicas).some((f) => /spec\.replicas 2 is set while .* owns the replica count/.test(f.message)));
    const pdbName = (pdb as KObject).metadata['name'] as string;
    const strictPdb = breakObject(
      set,
      'PodDisruptionBudget',
      pdbName,
      (p) => void delete (p['spec'] as Record<string, unknown>)['unhealthyPodEvictionPolicy'],
    );
    assert.ok(checkScaling(strictPdb).some((f) => /unhealthyPodEvictionPolicy is not AlwaysAllow/.test(f.message)));
  });

  it('each component applies its own config patch; no overlay holds a copy of the config', async () => {
    for (const overlay of OVERLAYS)
      assert.equal(existsSync(join(REPO_ROOT, 'kustomize', 'overlays', overlay, 'conductor.config.json')), false, overlay);
    const cfg = appConfig(await renderOverlay('production'));
    assert.ok(typeof cfg !== 'string', String(cfg));
    assert.deepEqual(cfg.patches, ['otel.config-patch.json', 'ha.config-patch.json', 'porch.config-patch.json']);
    const plugins = Object.keys(cfg.config['plugins'] as object);
    assert.ok(plugins.includes('porch-sink') && !plugins.includes('git-sink'), 'porch swapped the sink');
    assert.ok(plugins.includes('redis-coordination') && plugins.includes('otel'));
  });

  it('the readiness decision is documented with its reason', () => {
    const guide = readFileSync(join(REPO_ROOT, 'docs', 'deploy.md'), 'utf8');
    const section = guide.split(/^## /m).find((s) => s.startsWith('Readiness'));
    assert.ok(section, 'docs/deploy.md has a Readiness section');
    assert.match(section, /\/ready/);
    assert.match(section, /Porch/);
    assert.match(section, /drain/);
    assert.match(section, /degraded/);
  });
});
