import { runConformance } from '../../core/testkit/index.ts';
import plugin from '../../plugins/sanitize/index.ts';

runConformance(plugin);
