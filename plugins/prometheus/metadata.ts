// The prometheus plugin's options schema — each option's description and default, the one place
// an option is written (its type and the README derive from it) — and what its README says
// beyond the options (scripts/plugin-readmes.ts), the metrics read from the table they are
// registered from.
import { DEFAULT_HTTP_HOST, DEFAULT_HTTP_LIMITS, type PluginDocs } from '../../core/index.ts';
import { CONDUCTOR_METRICS } from './metrics.ts';

export const OPTIONS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    port: {
      type: 'integer',
      minimum: 0,
      maximum: 65_535,
      default: 9090,
      description: 'The port the metrics are served on (0: any free port).',
    },
    host: {
      type: 'string',
      minLength: 1,
      default: DEFAULT_HTTP_HOST,
      description: 'The address to listen on (the kustomize base sets `0.0.0.0`, the pod address, for the scrape).',
    },
    maxConnections: {
      type: 'integer',
      minimum: 1,
      maximum: 1_000,
      default: DEFAULT_HTTP_LIMITS.maxConnections,
      description: 'Connections the port holds at once; beyond it new ones are refused.',
    },
    path: { type: 'string', pattern: '^/', default: '/metrics', description: 'The path of the metrics.' },
    defaultMetrics: {
      type: 'boolean',
      default: true,
      description: "Also export prom-client's process and Node.js runtime metrics (`process_*`, `nodejs_*`).",
    },
  },
} as const;

export const DOCS: PluginDocs = {
  stability: 'beta',
  metrics: CONDUCTOR_METRICS,
  events: [{ name: 'metrics served on port N', via: 'log', when: 'the port is open (info)' }],
  example: { prometheus: { host: '0.0.0.0', port: 9090 } },
  notes:
    "The metrics are counted from the host's events (no stage plugin instruments itself) in a registry of this " +
    "instance's own. " +
    'Label values are bounded: anything unexpected is `other`.',
};
