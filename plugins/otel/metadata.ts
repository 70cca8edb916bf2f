// The otel plugin's options schema — each option's description and default, the one place an
// option is written (its type and the README derive from it) — and what its README says beyond
// the options (scripts/plugin-readmes.ts).
import type { PluginDocs } from '../../core/index.ts';

export const OPTIONS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    endpoint: {
      type: 'string',
      pattern: '^https?://',
      description:
        "The collector's OTLP/HTTP base URL; `/v1/traces` is added unless it is there. Unset: " +
        '`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, ' +
        'else `OTEL_EXPORTER_OTLP_ENDPOINT`, else `http://otel-collector:4318`.',
    },
    serviceName: {
      type: 'string',
      minLength: 1,
      description: 'The `service.name` resource attribute. Unset: `OTEL_SERVICE_NAME`, else `conductor`.',
    },
    instanceId: {
      type: 'string',
      minLength: 1,
      description: 'The `service.instance.id` resource attribute. Unset: the host name (the pod name in Kubernetes).',
    },
    resourceAttributes: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'Further resource attributes (`deployment.environment`, …), over those of `OTEL_RESOURCE_ATTRIBUTES`.',
    },
    sampleRatio: {
      type: 'number',
      minimum: 0,
      maximum: 1,
      description: 'The share of intents traced, 0 to 1. Unset: from `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`, else ' + 'all.',
    },
    scheduledDelayMs: {
      type: 'integer',
      minimum: 1,
      default: 5_000,
      description: 'How long finished spans wait to be sent in one batch.',
    },
    exportTimeoutMs: {
      type: 'integer',
      minimum: 1,
      default: 5_000,
      description: 'The limit of one export request to the collector.',
    },
  },
} as const;

export const DOCS: PluginDocs = {
  stability: 'alpha',
  events: [
    {
      name: 'traces',
      via: 'http',
      when: 'one trace per intent, a span per stage and per plugin tap, a CLIENT span per HTTP request, exported over ' + 'OTLP/HTTP',
    },
    {
      name: 'traceparent',
      via: 'hook',
      when:
        "the W3C trace context put on each intent's context, which the Porch sink sends; the trace id reaches the " +
        'status file and the audit log',
    },
    {
      name: 'trace export failed',
      via: 'log',
      when: 'the collector refused or could not be reached (warn, once until it works again: `trace export works ' + 'again`, info)',
    },
    { name: 'tracing is off: OTEL_SDK_DISABLED is true', via: 'log', when: 'the environment turns the SDK off (info)' },
  ],
  example: {
    otel: { endpoint: 'http://otel-collector:4318', resourceAttributes: { 'deployment.environment': 'production' } },
  },
  notes: '`OTEL_SDK_DISABLED=true` turns the plugin off.',
};
