import { after } from 'node:test';
import { runConformance } from '../../core/testkit/index.ts';
import plugin from '../../plugins/porch-sink/index.ts';
import { startPorchSim } from '../support/porch-sim/index.ts';

// The Porch simulator stands in for the cluster: the sink's default namespace and repository.
const sim = await startPorchSim({ namespace: 'porch-demo', repositories: [{ name: 'deployments' }] });
after(() => sim.close());

runConformance(plugin, { options: { server: sim.url } });
