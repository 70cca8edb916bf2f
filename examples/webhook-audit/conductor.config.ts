// An example pipeline using the webhook-audit plugin: the repository's default pipeline, with
// every outcome also POSTed to the webhook named by WEBHOOK_AUDIT_URL.
//
//   WEBHOOK_AUDIT_URL=https://audit.example.com/conductor conductor run --config conductor.config.ts
//
// `modules` says where a plugin that is not built in comes from: a path relative to this
// file (here, the plugin's own folder), or — in a project that installed it — the package:
//   modules: { 'webhook-audit': 'conductor-webhook-audit' }
import { defineConfig } from '../../core/index.ts';

export default defineConfig({
  dataDir: './data',
  modules: { 'webhook-audit': './index.ts' },
  plugins: {
    'fs-source': { pattern: 'intent-*.json', debounceMs: 250 },
    'schema-validate': {},
    sanitize: {},
    'rate-limit': { requestsPerMinute: 600, burst: 50 },
    'git-sink': { blueprint: '../blueprints/deployment' },
    'audit-log': {},
    'webhook-audit': {
      url: '${env:WEBHOOK_AUDIT_URL}',
      // A bearer token would go in `token` (redacted by `conductor print-config`), e.g.
      // token: '${env:WEBHOOK_AUDIT_TOKEN}',
      statuses: ['succeeded', 'failed', 'duplicate'],
    },
  },
});
