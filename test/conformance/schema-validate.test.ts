import { runConformance } from '../../core/testkit/index.ts';
import plugin from '../../plugins/schema-validate/index.ts';

runConformance(plugin);
