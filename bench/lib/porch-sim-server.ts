// The Porch simulator (test/support/porch-sim) in a process of its own, so that its CPU is not
// counted against the process under test: prints {"url": …} on the first line, then on SIGTERM
// prints {"published": n, "requests": n, "byKind": {"GET packagerevisions": n, …}} and exits.
// `--latency-ms N` delays every request by N ms before it is handled (a round trip to a remote
// apiserver, which the loopback does not have).
import { parseArgs } from 'node:util';
import { startPorchSim } from '../../test/support/porch-sim/index.ts';

export const PORCH_NAMESPACE = 'porch-demo';
export const PORCH_REPOSITORY = 'deployments';
/** New targets' packages are clones of this blueprint (porch-sink option `blueprint`). */
export const PORCH_BLUEPRINT = { repository: 'blueprints', package: 'app-blueprint' } as const;
const BLUEPRINT_FILES = {
  Kptfile: `apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: ${PORCH_BLUEPRINT.package}\n`,
  'deployment.yaml':
    'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: app\n' +
    '  template:\n    metadata:\n      labels:\n        app: app\n    spec:\n' +
    '      containers:\n      - name: app\n        image: registry.example/app:1.0.0\n',
};

/** `GET packagerevisions`, `PUT packagerevisions/approval`, …: the method and the resource a path names. */
export function requestKind(method: string, path: string): string {
  const match = /\/namespaces\/[^/]+\/([^/]+)(?:\/[^/]+)?(?:\/([^/]+))?$/.exec(path);
  if (match === null) return `${method} ${path}`;
  return `${method} ${match[1]}${match[2] === undefined ? '' : `/${match[2]}`}`;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { 'latency-ms': { type: 'string', default: '0' } } });
  const latencyMs = Number(values['latency-ms']);
  const sim = await startPorchSim({
    namespace: PORCH_NAMESPACE,
    repositories: [{ name: PORCH_REPOSITORY }, { name: PORCH_BLUEPRINT.repository }],
    packages: [{ repository: PORCH_BLUEPRINT.repository, packageName: PORCH_BLUEPRINT.package, resources: BLUEPRINT_FILES }],
    ...(latencyMs > 0 ? { faults: { latencyMs, latencyRate: 1, writesOnly: false } } : {}),
  });
  process.stdout.write(`${JSON.stringify({ url: sim.url })}\n`);
  process.on('SIGTERM', () => {
    const published = sim.listRevisions({ namespace: PORCH_NAMESPACE, repository: PORCH_REPOSITORY, lifecycle: 'Published' }).length;
    const byKind: Record<string, number> = {};
    for (const r of sim.requests()) {
      const kind = requestKind(r.method, r.path);
      byKind[kind] = (byKind[kind] ?? 0) + 1;
    }
    process.stdout.write(`${JSON.stringify({ published, requests: sim.requests().length, byKind })}\n`);
    void sim.close().finally(() => process.exit(0));
  });
}
