// The health plugin's options schema — each option's description and default, the one place an
// option is written (its type and the README derive from it) — and what its README says beyond
// the options (scripts/plugin-readmes.ts).
import { DEFAULT_HTTP_HOST, DEFAULT_HTTP_LIMITS, type PluginDocs } from '../../core/index.ts';

const PATH = { type: 'string', pattern: '^/' } as const;

export const OPTIONS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    port: {
      type: 'integer',
      minimum: 0,
      maximum: 65_535,
      default: 8080,
      description: 'The port the probes are served on (0: any free port).',
    },
    host: {
      type: 'string',
      minLength: 1,
      default: DEFAULT_HTTP_HOST,
      description: "The address to listen on (the kustomize base sets `0.0.0.0` for the kubelet's probes).",
    },
    maxConnections: {
      type: 'integer',
      minimum: 1,
      maximum: 1_000,
      default: DEFAULT_HTTP_LIMITS.maxConnections,
      description: 'Connections the port holds at once; beyond it new ones are refused.',
    },
    livenessPath: {
      ...PATH,
      default: '/healthz',
      description: 'Liveness: the process and its event loop, never the sink (a dead Porch must not restart the pod).',
    },
    readinessPath: {
      ...PATH,
      default: '/ready',
      description:
        "Readiness: every plugin's status; 503 with a JSON body naming what is not ready (a sink's outage under " + '`degraded`).',
    },
    startupPath: { ...PATH, default: '/startup', description: 'Startup: 200 once the pipeline has started.' },
    maxEventLoopDelayMs: {
      type: 'integer',
      minimum: 1,
      default: 5_000,
      description: 'Liveness fails when the event loop was this late; well above any pause normal work causes.',
    },
    eventLoopSampleMs: {
      type: 'integer',
      minimum: 1,
      maximum: 60_000,
      default: 500,
      description: "How often the event loop's delay is sampled.",
    },
  },
} as const;

export const DOCS: PluginDocs = {
  stability: 'beta',
  events: [
    {
      name: 'GET /healthz, /ready, /startup',
      via: 'http',
      when: 'the probes: 200, or 503 with a JSON body saying why',
    },
    { name: 'health probes served on port N', via: 'log', when: 'the port is open (info)' },
  ],
  example: { health: { host: '0.0.0.0', port: 8080 } },
};
