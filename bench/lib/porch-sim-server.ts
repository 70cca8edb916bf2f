// The Porch simulator (test/support/porch-sim) in a process of its own, so that its CPU is not
// counted against the process under test: prints {"url": …} on the first line, then on SIGTERM
// prints {"published": n, "requests": n} and exits.
import { startPorchSim } from '../../test/support/porch-sim/index.ts';

export const PORCH_NAMESPACE = 'porch-demo';
export const PORCH_REPOSITORY = 'deployments';

if (import.meta.main) {
  const sim = await startPorchSim({ namespace: PORCH_NAMESPACE, repositories: [{ name: PORCH_REPOSITORY }] });
  process.stdout.write(`${JSON.stringify({ url: sim.url })}\n`);
  process.on('SIGTERM', () => {
    const published = sim.listRevisions({ namespace: PORCH_NAMESPACE, lifecycle: 'Published' }).length;
    process.stdout.write(`${JSON.stringify({ published, requests: sim.requests().length })}\n`);
    void sim.close().finally(() => process.exit(0));
  });
}
