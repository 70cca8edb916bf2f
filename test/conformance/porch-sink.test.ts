import { after } from 'node:test';
import { runConformance } from '../../core/testkit/index.ts';
import plugin from '../../plugins/porch-sink/index.ts';
import { BLUEPRINT, startSim } from '../porch/support/harness.ts';

// The Porch simulator stands in for the cluster: the sink's default namespace and repository,
// and a Published blueprint for new targets (so that plan() and submit have something to apply).
const sim = await startSim();
after(() => sim.close());

runConformance(plugin, { options: { server: sim.url, approve: true, blueprint: BLUEPRINT } });
