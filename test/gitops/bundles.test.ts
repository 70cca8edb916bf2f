// The Argo CD and Flux bundles render, validate against their CRD schemas, and every path they
// deploy exists, renders, and is allowed where they send it.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkArgoCd, checkFlux, expandApplicationSet } from './support/bundles.ts';
import { formatFindings, nameOf, ofKind } from './support/objects.ts';
import { BUNDLES_DIR, renderDir } from './support/render.ts';
import { checkSchemas } from './support/schema.ts';

const ARGO_APPLICATIONS = join(BUNDLES_DIR, 'argocd', 'applications');
const ARGO_APPLICATIONSET = join(BUNDLES_DIR, 'argocd', 'applicationset');
const FLUX = join(BUNDLES_DIR, 'flux');

describe('Argo CD bundle', () => {
  it('applications: an AppProject and one Application per environment, schema-valid', async () => {
    const set = await renderDir(ARGO_APPLICATIONS);
    assert.deepEqual(ofKind(set, 'AppProject').map(nameOf), ['conductor']);
    assert.deepEqual(ofKind(set, 'Application').map(nameOf).sort(), ['conductor-dev', 'conductor-production', 'conductor-staging']);
    const findings = checkSchemas(set);
    assert.equal(findings.length, 0, formatFindings(findings));
  });

  it('applications: every path exists, renders and is allowed by the AppProject', async () => {
    const findings = await checkArgoCd(await renderDir(ARGO_APPLICATIONS));
    assert.equal(findings.length, 0, formatFindings(findings));
  });

  it('applicationset: generates the same three Applications, schema-valid', async () => {
    const set = await renderDir(ARGO_APPLICATIONSET);
    const [appSet] = ofKind(set, 'ApplicationSet');
    assert.ok(appSet !== undefined, 'an ApplicationSet is rendered');
    const { apps, findings } = expandApplicationSet(appSet);
    assert.equal(findings.length, 0, formatFindings(findings));
    assert.deepEqual(apps.map(nameOf).sort(), ['conductor-dev', 'conductor-production', 'conductor-staging']);
    const schema = [...checkSchemas(set), ...checkSchemas({ name: 'generated', objects: apps })];
    assert.equal(schema.length, 0, formatFindings(schema));
  });

  it('applicationset: every generated path exists, renders and is allowed by the AppProject', async () => {
    const findings = await checkArgoCd(await renderDir(ARGO_APPLICATIONSET));
    assert.equal(findings.length, 0, formatFindings(findings));
  });
});

describe('Flux bundle', () => {
  it('a GitRepository and one Kustomization per environment, chained by dependsOn, schema-valid', async () => {
    const set = await renderDir(FLUX);
    assert.deepEqual(ofKind(set, 'GitRepository').map(nameOf), ['conductor']);
    const ks = ofKind(set, 'Kustomization');
    assert.deepEqual(ks.map(nameOf).sort(), ['conductor-dev', 'conductor-production', 'conductor-staging']);
    const deps = Object.fromEntries(ks.map((k) => [nameOf(k), JSON.stringify((k['spec'] as { dependsOn?: unknown }).dependsOn ?? [])]));
    assert.deepEqual(deps, {
      'conductor-dev': '[]',
      'conductor-staging': '[{"name":"conductor-dev"}]',
      'conductor-production': '[{"name":"conductor-staging"}]',
    });
    const findings = checkSchemas(set);
    assert.equal(findings.length, 0, formatFindings(findings));
  });

  it('every path exists and renders; dependsOn, sourceRef and healthChecks resolve', async () => {
    const findings = await checkFlux(await renderDir(FLUX));
    assert.equal(findings.length, 0, formatFindings(findings));
  });
});
