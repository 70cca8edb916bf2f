import { runConformance } from '../../core/testkit/index.ts';
import plugin from '../../plugins/retention/index.ts';

runConformance(plugin);
