import { runConformance } from '../../core/testkit/index.ts';
import plugin from '../../plugins/git-sink/index.ts';
import { BLUEPRINT } from '../support/data-dir.ts';

runConformance(plugin, { options: { blueprint: BLUEPRINT } });
