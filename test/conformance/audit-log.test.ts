import { runConformance } from '../../core/testkit/index.ts';
import plugin from '../../plugins/audit-log/index.ts';

runConformance(plugin);
