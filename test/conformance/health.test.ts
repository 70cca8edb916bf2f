import { runConformance } from '../../core/testkit/index.ts';
import plugin from '../../plugins/health/index.ts';

runConformance(plugin, { options: { port: 0, host: '127.0.0.1' } });
