import { runConformance } from '../../core/testkit/index.ts';
import plugin from '../../plugins/git-sink/index.ts';

runConformance(plugin);
