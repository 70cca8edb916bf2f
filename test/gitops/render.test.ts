// Every overlay, and the base with every combination of components, renders with
// `kubectl kustomize` and passes every per-property check; production matches the guide.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { appConfig } from './support/app.ts';
import { composeConfig, overlayComponents, overlayConfig } from './support/compose.ts';
import { checkGuideNumbers, GUIDE_PRODUCTION, summarize } from './support/guide.ts';
import { STATIC_CHECKS, runStaticChecks } from './support/index.ts';
import { formatFindings, ofKind } from './support/objects.ts';
import { inParallel, listComponents, OVERLAYS, renderCombination, renderOverlay, subsets } from './support/render.ts';

describe('overlays', () => {
  for (const overlay of OVERLAYS) {
    describe(`overlay ${overlay}`, () => {
      for (const [name, check] of Object.entries(STATIC_CHECKS)) {
        it(`passes ${name}`, async () => {
          const set = await renderOverlay(overlay);
          assert.ok(set.objects.length > 0, `overlay ${overlay} rendered nothing`);
          const findings = check(set);
          assert.equal(findings.length, 0, `${name} on overlay ${overlay}:\n${formatFindings(findings)}`);
        });
      }

      it('enables the plugins its components need, and no others', async () => {
        const components = await overlayComponents(overlay);
        const expected = Object.keys((await composeConfig(components))['plugins'] as object).sort();
        const actual = Object.keys((await overlayConfig(overlay))['plugins'] as object).sort();
        assert.deepEqual(actual, expected, `overlay ${overlay} (components: ${components.join(', ') || 'none'}) config plugins`);
      });
    });
  }

  it('dev, staging and production differ only where they should', async () => {
    const [dev, staging, production] = await Promise.all(OVERLAYS.map((o) => renderOverlay(o)));
    assert.ok(dev !== undefined && staging !== undefined && production !== undefined);
    assert.equal(ofKind(dev, 'HorizontalPodAutoscaler').length, 0, 'dev has no HPA');
    assert.equal(ofKind(staging, 'ServiceMonitor').length, 1, 'staging is monitored');
    assert.equal(ofKind(production, 'HorizontalPodAutoscaler').length, 1, 'production autoscales');
    assert.equal(ofKind(production, 'PrometheusRule').length, 1, 'production has alerts');
  });
});

describe('component combinations', async () => {
  const components = await listComponents();
  const combinations = subsets(components);

  it('covers every component', () => {
    assert.deepEqual(components, ['ha', 'monitoring', 'otel', 'porch']);
    assert.equal(combinations.length, 2 ** components.length);
  });

  it('every combination renders with its composed config and passes every check', async () => {
    const results = await inParallel(combinations, 4, async (combo) => {
      // Each component applies its own config patch: the app's config is the composed one.
      const config = await composeConfig(combo);
      const set = await renderCombination(combo);
      const applied = appConfig(set);
      const findings = runStaticChecks(set);
      if (typeof applied === 'string' || !isDeepStrictEqual(applied.config, config)) {
        findings.push({
          object: set.name,
          message: `the config the app gets is not the composed one: ${typeof applied === 'string' ? applied : JSON.stringify(applied.config)}`,
        });
      }
      return { set, findings };
    });
    const failures = results.filter((r) => r.findings.length > 0 || r.set.objects.length === 0);
    assert.deepEqual(
      failures.map((f) => f.set.name),
      [],
      failures.map((f) => `${f.set.name}:\n${formatFindings(f.findings)}`).join('\n\n'),
    );
  });
});

// `kubectl kustomize kustomize/overlays/production` matches the guide's numbers.
describe('production overlay', () => {
  it("matches the guide's numbers", async (t) => {
    const set = await renderOverlay('production');
    const s = summarize(set);
    t.diagnostic(`production: ${JSON.stringify(s)}`);
    assert.equal(s.replicas, 2);
    assert.deepEqual(s.hpa, GUIDE_PRODUCTION.hpa);
    assert.equal(s.pdbMinAvailable, 1);
    assert.deepEqual(s.cpu, { request: '100m', limit: '1000m' });
    assert.deepEqual(s.memory, { request: '128Mi', limit: '512Mi' });
    assert.deepEqual(s.storage, { size: '10Gi', accessModes: ['ReadWriteMany'] });
    assert.deepEqual({ ...s.config, plugins: undefined }, { ...GUIDE_PRODUCTION.config, plugins: undefined });
    assert.match(s.image ?? '', /^registry\.example\.com\/conductor\/conductor:\d+\.\d+\.\d+$/);
    for (const plugin of ['porch-sink', 'redis-coordination', 'otel', 'prometheus', 'health', 'audit-log']) {
      assert.ok(s.config.plugins.includes(plugin), `${plugin} is enabled`);
    }
    assert.ok(!s.config.plugins.includes('git-sink'), 'porch-sink replaces git-sink');
    const findings = checkGuideNumbers(set);
    assert.equal(findings.length, 0, formatFindings(findings));
  });

  it('dev stays small: one replica on ReadWriteOnce', async () => {
    const s = summarize(await renderOverlay('dev'));
    assert.equal(s.replicas, 1);
    assert.equal(s.hpa, undefined);
    assert.deepEqual(s.storage.accessModes, ['ReadWriteOnce']);
  });
});
