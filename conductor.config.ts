// The repository's default pipeline (the embedded default): intent files dropped into
// ./data/handoff become commits of kpt packages in the local GitOps repository ./data/out.
// No cluster needed. Swap `git-sink` for `porch-sink` to submit to Porch instead.
import { defineConfig } from './core/index.ts';

export default defineConfig({
  dataDir: './data',
  concurrency: 4,
  plugins: {
    'fs-source': { pattern: 'intent-*.json', debounceMs: 250, maxFileBytes: 10_485_760 },
    'schema-validate': {},
    sanitize: { maxInputLength: 10_000 },
    'rate-limit': { requestsPerMinute: 600, burst: 50 },
    // New targets start from this kpt package (a pinned image, resources, probes); edit it or
    // point `blueprint` at your own. Without one, an intent for a new target is refused.
    'git-sink': { blueprint: './examples/blueprints/deployment' },
    'audit-log': {},
  },
});
