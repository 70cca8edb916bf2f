import { randomUUID } from 'node:crypto';
import { runConformance } from '../../core/testkit/index.ts';
import plugin from '../../plugins/redis-coordination/index.ts';

// The Redis every test of this repository uses; a key prefix of its own keeps runs apart.
runConformance(plugin, { options: { url: 'redis://127.0.0.1:6379', keyPrefix: `conformance-${randomUUID()}` } });
