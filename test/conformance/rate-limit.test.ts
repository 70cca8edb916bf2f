import { runConformance } from '../../core/testkit/index.ts';
import plugin from '../../plugins/rate-limit/index.ts';

runConformance(plugin);
