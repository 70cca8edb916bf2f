import { runConformance } from '../../core/testkit/index.ts';
import plugin from '../../plugins/fs-source/index.ts';

runConformance(plugin);
