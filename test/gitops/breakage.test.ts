// Each check, run on a real rendered set with one property broken, reports it and names the
// object. (Every test first asserts the unbroken set passes the same check.)

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertCaught, breakObject, conductorContainer, node } from './support/breakage.ts';
import { checkArgoCd, checkFlux } from './support/bundles.ts';
import { checkDockerfile } from './support/dockerfile.ts';
import { checkGuideNumbers } from './support/guide.ts';
import { checkMetricNames } from './support/metrics.ts';
import { find, ofKind, type KObject, type RenderedSet } from './support/objects.ts';
import { checkGuideSecurityContext, checkPodSecurityRestricted } from './support/pod-security.ts';
import { checkPrometheusRules } from './support/promtool.ts';
import { BUNDLES_DIR, renderDir, renderOverlay, REPO_ROOT } from './support/render.ts';
import { checkSchemas } from './support/schema.ts';
import {
  checkConfigWiring,
  checkImageTags,
  checkNamespaces,
  checkNetworkPolicy,
  checkProbes,
  checkRbac,
  checkScaling,
  checkService,
} from './support/workload.ts';

const production = (): Promise<RenderedSet> => renderOverlay('production');
const dev = (): Promise<RenderedSet> => renderOverlay('dev');
const CONDUCTOR = 'Deployment conductor/conductor';

describe('pod security and the security context', () => {
  it('runAsNonRoot dropped from pod and container is caught by the restricted check', async () => {
    const set = await production();
    const broken = breakObject(set, 'Deployment', 'conductor', (d) => {
      delete node(d, 'spec', 'template', 'spec', 'securityContext')['runAsNonRoot'];
      delete node(conductorContainer(d), 'securityContext')['runAsNonRoot'];
    });
    assertCaught(
      checkPodSecurityRestricted(set),
      checkPodSecurityRestricted(broken),
      CONDUCTOR,
      /container conductor: runAsNonRoot must be true/,
    );
  });

  it("runAsNonRoot dropped from the container only is caught by the guide's exact security context", async () => {
    const set = await production();
    const broken = breakObject(set, 'Deployment', 'conductor', (d) => {
      delete node(conductorContainer(d), 'securityContext')['runAsNonRoot'];
    });
    assertCaught(
      checkGuideSecurityContext(set),
      checkGuideSecurityContext(broken),
      CONDUCTOR,
      /securityContext must be exactly the guide's/,
    );
  });

  it('privilege escalation on the Redis container is caught', async () => {
    const set = await production();
    const broken = breakObject(set, 'Deployment', 'redis', (d) => {
      const [redis] = node(d, 'spec', 'template', 'spec')['containers'] as Record<string, unknown>[];
      node(redis, 'securityContext')['allowPrivilegeEscalation'] = true;
    });
    assertCaught(
      checkPodSecurityRestricted(set),
      checkPodSecurityRestricted(broken),
      'Deployment conductor/redis',
      /container redis: allowPrivilegeEscalation must be false/,
    );
  });

  it('a hostPath volume is caught', async () => {
    const set = await dev();
    const broken = breakObject(set, 'Deployment', 'conductor', (d) => {
      (node(d, 'spec', 'template', 'spec')['volumes'] as unknown[]).push({ name: 'host', hostPath: { path: '/var/run' } });
    });
    assertCaught(
      checkPodSecurityRestricted(set),
      checkPodSecurityRestricted(broken),
      CONDUCTOR,
      /volume host: type hostPath is not allowed/,
    );
  });

  it('a Namespace without the restricted enforce label is caught', async () => {
    const set = await dev();
    const broken = breakObject(set, 'Namespace', 'conductor', (ns) => {
      delete node(ns, 'metadata', 'labels')['pod-security.kubernetes.io/enforce'];
    });
    assertCaught(
      checkNamespaces(set),
      checkNamespaces(broken),
      'Namespace conductor',
      /pod-security\.kubernetes\.io\/enforce must be "restricted"/,
    );
  });
});

describe('images', () => {
  it('the tag latest is refused', async () => {
    const set = await production();
    const broken = breakObject(set, 'Deployment', 'conductor', (d) => {
      conductorContainer(d)['image'] = 'registry.example.com/conductor/conductor:latest';
    });
    assertCaught(checkImageTags(set), checkImageTags(broken), CONDUCTOR, /uses the tag "latest"/);
  });

  it('a missing tag is refused', async () => {
    const set = await production();
    const broken = breakObject(set, 'Deployment', 'redis', (d) => {
      const [redis] = node(d, 'spec', 'template', 'spec')['containers'] as Record<string, unknown>[];
      node(redis)['image'] = 'redis';
    });
    assertCaught(checkImageTags(set), checkImageTags(broken), 'Deployment conductor/redis', /image redis has no tag/);
  });

  it('the Dockerfile: a latest base image, root user and a RUN at run time are refused', async () => {
    const text = await readFile(join(REPO_ROOT, 'Dockerfile'), 'utf8');
    assert.deepEqual(checkDockerfile(text), []);
    // The runtime stage's USER (the compile-cache stage before it has one of its own).
    const runtimeAt = text.indexOf('AS runtime');
    assert.ok(runtimeAt > 0, 'the Dockerfile has a runtime stage');
    const broken = (text.slice(0, runtimeAt) + text.slice(runtimeAt).replace('USER 65532:65532', 'USER root'))
      .replace('ARG NODE_IMAGE=node:24-bookworm-slim', 'ARG NODE_IMAGE=node:latest')
      .replace('EXPOSE 8080 9090', 'RUN ["/nodejs/bin/node", "-e", "1"]\nEXPOSE 8080 9090');
    const messages = checkDockerfile(broken).map((f) => `${f.object}: ${f.message}`);
    assert.ok(
      messages.some((m) => /^Dockerfile: FROM on line \d+: image node:latest uses the tag "latest"/.test(m)),
      messages.join('\n'),
    );
    assert.ok(
      messages.some((m) => m.startsWith('Dockerfile stage runtime: must run as USER 65532:65532, got root')),
      messages.join('\n'),
    );
    assert.ok(
      messages.some((m) => /^Dockerfile stage runtime: line \d+: RUN in the runtime stage/.test(m)),
      messages.join('\n'),
    );
  });
});

describe('probes, ports and config wiring', () => {
  it('a liveness probe on /health (which the app does not serve) is caught', async () => {
    const set = await production();
    const broken = breakObject(set, 'Deployment', 'conductor', (d) => {
      node(conductorContainer(d), 'livenessProbe', 'httpGet')['path'] = '/health';
    });
    assertCaught(checkProbes(set), checkProbes(broken), CONDUCTOR, /livenessProbe must GET \/healthz, got \/health/);
  });

  it('a readiness probe on the metrics port is caught', async () => {
    const set = await production();
    const broken = breakObject(set, 'Deployment', 'conductor', (d) => {
      node(conductorContainer(d), 'readinessProbe', 'httpGet')['port'] = 'metrics';
    });
    assertCaught(
      checkProbes(set),
      checkProbes(broken),
      CONDUCTOR,
      /readinessProbe port metrics resolves to 9090, but the app serves health on 8080/,
    );
  });

  it('a Service whose metrics port targets the wrong container port is caught', async () => {
    const set = await production();
    const broken = breakObject(set, 'Service', 'conductor', (s) => {
      const ports = node(s, 'spec')['ports'] as Record<string, unknown>[];
      const metrics = ports.find((p) => p['name'] === 'metrics');
      assert.ok(metrics !== undefined);
      metrics['targetPort'] = 9091;
    });
    assertCaught(checkService(set), checkService(broken), 'Service conductor/conductor', /must expose the metrics port 9090/);
  });

  it('a config whose dataDir disagrees with --data-dir is caught on the ConfigMap', async () => {
    const set = await production();
    const [cm] = ofKind(set, 'ConfigMap').filter((c) => (c.metadata['name'] as string).startsWith('conductor-config-'));
    assert.ok(cm !== undefined);
    const name = cm.metadata['name'] as string;
    const broken = breakObject(set, 'ConfigMap', name, (c) => {
      const data = node(c, 'data');
      const config = JSON.parse(data['conductor.config.json'] as string) as Record<string, unknown>;
      config['dataDir'] = '/var/lib/conductor';
      data['conductor.config.json'] = JSON.stringify(config);
    });
    assertCaught(
      checkConfigWiring(set),
      checkConfigWiring(broken),
      `ConfigMap conductor/${name}`,
      /config dataDir \/var\/lib\/conductor differs from --data-dir \/data/,
    );
  });

  it('a ConfigMap that is not JSON is caught on the Deployment mounting it', async () => {
    const set = await dev();
    const [cm] = ofKind(set, 'ConfigMap');
    assert.ok(cm !== undefined);
    const broken = breakObject(set, 'ConfigMap', cm.metadata['name'] as string, (c) => {
      node(c, 'data')['conductor.config.json'] = 'dataDir: /data';
    });
    assertCaught(checkConfigWiring(set), checkConfigWiring(broken), CONDUCTOR, /key conductor\.config\.json is not JSON/);
  });
});

describe('RBAC, scaling and network policy', () => {
  it('Porch rules under the wrong API group are caught on the Role and on the config that needs them', async () => {
    const set = await production();
    const broken = breakObject(
      set,
      'Role',
      'conductor-porch-sink',
      (r) => {
        for (const rule of r['rules'] as Record<string, unknown>[]) rule['apiGroups'] = ['porch.kpt.io'];
      },
      'porch-demo',
    );
    const after = checkRbac(broken);
    assertCaught(
      checkRbac(set),
      after,
      'Role porch-demo/conductor-porch-sink',
      /grants list packagerevisions\.porch\.kpt\.io, which Conductor does not need/,
    );
    assert.ok(
      after.some(
        (f) =>
          f.object.startsWith('ConfigMap conductor/conductor-config-') &&
          /porch-sink needs list packagerevisions\.porch\.kpt\.dev/.test(f.message),
      ),
    );
  });

  it('a cluster-wide ClusterRole is refused', async () => {
    const set = await production();
    const broken = {
      name: 'broken',
      objects: [
        ...structuredClone(set.objects),
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRole',
          metadata: { name: 'conductor-everything' },
          rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
        } as KObject,
      ],
    };
    assertCaught(checkRbac(set), checkRbac(broken), 'ClusterRole conductor-everything', /no cluster-wide RBAC/);
  });

  it('two replicas on the base ReadWriteOnce volume without Redis are caught', async () => {
    const set = await dev();
    const broken = breakObject(set, 'Deployment', 'conductor', (d) => {
      node(d, 'spec')['replicas'] = 2;
    });
    const after = checkScaling(broken);
    assertCaught(
      checkScaling(set),
      after,
      'PersistentVolumeClaim conductor/conductor-data',
      /runs 2 replicas on this claim, which is not ReadWriteMany/,
    );
    assert.ok(after.some((f) => f.object.startsWith('ConfigMap') && /does not enable redis-coordination/.test(f.message)));
  });

  it('a rolling update of one replica on ReadWriteOnce is caught', async () => {
    const set = await dev();
    const broken = breakObject(set, 'Deployment', 'conductor', (d) => {
      node(d, 'spec')['strategy'] = { type: 'RollingUpdate' };
    });
    assertCaught(checkScaling(set), checkScaling(broken), CONDUCTOR, /must use strategy Recreate/);
  });

  it('a missing default-deny policy is caught', async () => {
    const set = await production();
    const broken = {
      name: 'broken',
      objects: set.objects.filter((o) => !(o.kind === 'NetworkPolicy' && o.metadata['name'] === 'default-deny-all')),
    };
    assertCaught(checkNetworkPolicy(set), checkNetworkPolicy(broken), CONDUCTOR, /has no default-deny NetworkPolicy/);
  });

  it('a Redis URL on a port the egress policy does not open is caught', async () => {
    const set = await production();
    const [cm] = ofKind(set, 'ConfigMap').filter((c) => (c.metadata['name'] as string).startsWith('conductor-config-'));
    assert.ok(cm !== undefined);
    const broken = breakObject(set, 'ConfigMap', cm.metadata['name'] as string, (c) => {
      // The ha component's own config patch carries the Redis URL.
      const data = node(c, 'data');
      const patch = JSON.parse(data['ha.config-patch.json'] as string) as { plugins: Record<string, Record<string, unknown>> };
      node(patch.plugins, 'redis-coordination')['url'] = 'redis://redis:6380';
      data['ha.config-patch.json'] = JSON.stringify(patch);
    });
    assertCaught(checkNetworkPolicy(set), checkNetworkPolicy(broken), CONDUCTOR, /reach Redis \(redis:\/\/redis:6380\) on TCP 6380/);
  });
});

describe('schemas', () => {
  it('a wrong field type is refused by the Kubernetes schema, naming the object', async () => {
    const set = await production();
    const broken = breakObject(set, 'Deployment', 'conductor', (d) => {
      node(d, 'spec')['replicas'] = 'two';
    });
    assertCaught(checkSchemas(set), checkSchemas(broken), CONDUCTOR, /spec\/replicas must be integer/);
  });

  it('wrong field types are refused by the prometheus-operator, Argo CD and Flux schemas', async () => {
    const set = await production();
    const brokenRule = breakObject(set, 'PrometheusRule', 'conductor', (r) => {
      const [group] = node(r, 'spec')['groups'] as Record<string, unknown>[];
      const [rule] = node(group)['rules'] as Record<string, unknown>[];
      node(rule)['for'] = '30 seconds';
    });
    assertCaught(checkSchemas(set), checkSchemas(brokenRule), 'PrometheusRule conductor/conductor', /for must match pattern/);

    const argo = await renderDir(join(BUNDLES_DIR, 'argocd', 'applications'));
    const brokenApp = breakObject(argo, 'Application', 'conductor-dev', (a) => {
      node(a, 'spec')['project'] = 7;
    });
    assertCaught(checkSchemas(argo), checkSchemas(brokenApp), 'Application argocd/conductor-dev', /spec\/project must be string/);

    const flux = await renderDir(join(BUNDLES_DIR, 'flux'));
    const brokenKs = breakObject(flux, 'Kustomization', 'conductor-staging', (k) => {
      node(k, 'spec')['prune'] = 'yes';
    });
    assertCaught(checkSchemas(flux), checkSchemas(brokenKs), 'Kustomization flux-system/conductor-staging', /spec\/prune must be boolean/);
  });

  it('an object of an unknown kind is reported, not waved through', async () => {
    const set = await dev();
    const broken = {
      name: 'broken',
      objects: [
        ...set.objects,
        { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'conductor' } } as KObject,
      ],
    };
    assertCaught(checkSchemas(set), checkSchemas(broken), 'Widget conductor/w', /no schema known for example\.com\/v1 Widget/);
  });
});

describe('Argo CD and Flux', () => {
  it('an Application pointing at a missing overlay path is caught', async () => {
    const bundle = await renderDir(join(BUNDLES_DIR, 'argocd', 'applications'));
    const broken = breakObject(bundle, 'Application', 'conductor-production', (a) => {
      node(a, 'spec', 'source')['path'] = 'kustomize/overlays/prod';
    });
    assertCaught(
      await checkArgoCd(bundle),
      await checkArgoCd(broken),
      'Application argocd/conductor-production',
      /path kustomize\/overlays\/prod does not exist/,
    );
  });

  it('an ApplicationSet element for an environment with no overlay is caught', async () => {
    const bundle = await renderDir(join(BUNDLES_DIR, 'argocd', 'applicationset'));
    const broken = breakObject(bundle, 'ApplicationSet', 'conductor', (s) => {
      const [generator] = node(s, 'spec')['generators'] as Record<string, unknown>[];
      (node(generator, 'list')['elements'] as unknown[]).push({ env: 'qa', cluster: 'qa' });
    });
    const after = await checkArgoCd(broken);
    assertCaught(
      await checkArgoCd(bundle),
      after,
      'ApplicationSet argocd/conductor',
      /generated Application conductor-qa: path kustomize\/overlays\/qa does not exist/,
    );
    assert.ok(after.some((f) => /destination qa\/conductor is not allowed by AppProject conductor/.test(f.message)));
  });

  it('an AppProject that does not permit a rendered kind is caught on the Application', async () => {
    const bundle = await renderDir(join(BUNDLES_DIR, 'argocd', 'applications'));
    const broken = breakObject(bundle, 'AppProject', 'conductor', (p) => {
      const spec = node(p, 'spec');
      spec['namespaceResourceWhitelist'] = (spec['namespaceResourceWhitelist'] as Record<string, unknown>[]).filter(
        (e) => e['kind'] !== 'ServiceMonitor',
      );
    });
    assertCaught(
      await checkArgoCd(bundle),
      await checkArgoCd(broken),
      'Application argocd/conductor-production',
      /renders ServiceMonitor conductor, which AppProject conductor's namespaceResourceWhitelist does not permit/,
    );
  });

  it('a Flux Kustomization with a missing path, a dangling dependsOn and a health check on nothing is caught', async () => {
    const bundle = await renderDir(join(BUNDLES_DIR, 'flux'));
    const broken = breakObject(bundle, 'Kustomization', 'conductor-staging', (k) => {
      const spec = node(k, 'spec');
      spec['path'] = './kustomize/overlays/stage';
      spec['dependsOn'] = [{ name: 'conductor-qa' }];
    });
    const after = await checkFlux(broken);
    assertCaught(
      await checkFlux(bundle),
      after,
      'Kustomization flux-system/conductor-staging',
      /path \.\/kustomize\/overlays\/stage does not exist/,
    );
    assert.ok(after.some((f) => f.object === 'Kustomization flux-system/conductor-staging' && /dependsOn conductor-qa/.test(f.message)));

    const badCheck = breakObject(bundle, 'Kustomization', 'conductor-dev', (k) => {
      node(k, 'spec', 'healthChecks', 0)['name'] = 'conductor-loop';
    });
    assertCaught(
      [],
      await checkFlux(badCheck),
      'Kustomization flux-system/conductor-dev',
      /healthCheck Deployment conductor\/conductor-loop is not rendered/,
    );
  });
});

describe('alerts, dashboards and guide numbers', () => {
  it('an alert on a metric the app does not export is caught', async () => {
    const set = await production();
    const broken = breakObject(set, 'PrometheusRule', 'conductor', (r) => {
      const [group] = node(r, 'spec')['groups'] as Record<string, unknown>[];
      const rules = node(group)['rules'] as Record<string, unknown>[];
      const queue = rules.find((x) => x['alert'] === 'ConductorQueueBackup');
      assert.ok(queue !== undefined);
      queue['expr'] = 'conductor_loop_queue_size > 100';
    });
    assertCaught(
      checkMetricNames(set),
      checkMetricNames(broken),
      'PrometheusRule conductor/conductor',
      /rule ConductorQueueBackup uses conductor_loop_queue_size, which the app does not export/,
    );
  });

  it('a dashboard query on a metric the app does not export is caught', async () => {
    const set = await production();
    const broken = breakObject(set, 'ConfigMap', 'conductor-dashboards', (c) => {
      const data = node(c, 'data');
      data['conductor-security.json'] = (data['conductor-security.json'] as string).replaceAll(
        'conductor_loop_security_events_total',
        'conductor_security_violations_total',
      );
    });
    assertCaught(
      checkMetricNames(set),
      checkMetricNames(broken),
      'ConfigMap conductor/conductor-dashboards',
      /uses conductor_security_violations_total/,
    );
  });

  it('an alert whose threshold no longer matches its unit test fails promtool test rules', async () => {
    const set = await production();
    const broken = breakObject(set, 'PrometheusRule', 'conductor', (r) => {
      const [group] = node(r, 'spec')['groups'] as Record<string, unknown>[];
      const rules = node(group)['rules'] as Record<string, unknown>[];
      const queue = rules.find((x) => x['alert'] === 'ConductorQueueBackup');
      assert.ok(queue !== undefined);
      queue['expr'] = String(queue['expr']).replace('> 100', '> 1000');
    });
    assertCaught(
      await checkPrometheusRules(set),
      await checkPrometheusRules(broken),
      'PrometheusRule conductor/conductor',
      /promtool test rules failed:[\s\S]*ConductorQueueBackup/,
    );
  });

  it('production memory above the guide is caught', async () => {
    const set = await production();
    const broken = breakObject(set, 'Deployment', 'conductor', (d) => {
      node(conductorContainer(d), 'resources', 'limits')['memory'] = '1Gi';
    });
    assertCaught(checkGuideNumbers(set), checkGuideNumbers(broken), CONDUCTOR, /memory .* is not the guide's/);
  });

  it('find() locates objects by kind, name and namespace', async () => {
    const set = await production();
    assert.ok(find(set, 'Role', 'conductor-porch-sink', 'porch-demo') !== undefined);
    assert.equal(find(set, 'Role', 'conductor-porch-sink', 'conductor'), undefined);
  });
});
