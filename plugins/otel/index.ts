// Tracing with the OpenTelemetry JS SDK (DESIGN §5): one trace per intent with a span per stage,
// built from the host's events; the W3C traceparent put on each intent's context for sinks to
// send; OTLP/HTTP export to a collector, flushed on stop. The provider is this plugin's own and
// is not registered globally: nothing else in the process starts spans, and two pipelines in
// one process (tests) keep apart. The trace id reaches the status file and the audit log
// because the core copies ctx.trace.traceId into each outcome.
import { hostname } from 'node:os';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace';
import { CONDUCTOR_VERSION, definePlugin, redactConfig } from '../../core/index.ts';
import { ReportingExporter, tracesUrlOf } from './exporter.ts';
import { IntentTracer } from './intent-tracer.ts';

interface Options {
  /** The collector's OTLP/HTTP base URL; `/v1/traces` is added unless it is there. */
  endpoint: string;
  serviceName: string;
  /** service.instance.id; the host name (the pod name in Kubernetes) by default. */
  instanceId?: string;
  /** Further resource attributes (deployment.environment, k8s.namespace.name, …). */
  resourceAttributes: Record<string, string>;
  /** Share of intents traced, 0 to 1. */
  sampleRatio: number;
  /** How long finished spans wait to be sent in one batch. */
  scheduledDelayMs: number;
  exportTimeoutMs: number;
}

export default definePlugin<Options>({
  name: 'otel',
  kind: 'service',
  description: 'Traces every intent (a span per stage) and exports the traces over OTLP/HTTP.',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      endpoint: { type: 'string', pattern: '^https?://' },
      serviceName: { type: 'string', minLength: 1 },
      instanceId: { type: 'string', minLength: 1 },
      resourceAttributes: { type: 'object', additionalProperties: { type: 'string' } },
      sampleRatio: { type: 'number', minimum: 0, maximum: 1 },
      scheduledDelayMs: { type: 'integer', minimum: 1 },
      exportTimeoutMs: { type: 'integer', minimum: 1 },
    },
    required: ['endpoint', 'serviceName', 'resourceAttributes', 'sampleRatio', 'scheduledDelayMs', 'exportTimeoutMs'],
  },
  defaults: {
    endpoint: 'http://otel-collector:4318',
    serviceName: 'conductor',
    resourceAttributes: {},
    sampleRatio: 1,
    scheduledDelayMs: 5_000,
    exportTimeoutMs: 5_000,
  },
  create(context, options) {
    const { events } = context.host;
    let provider: TracerProvider | undefined;
    let exporter: ReportingExporter | undefined;
    let tracer: IntentTracer | undefined;

    // Tapped here, and inert until start() builds the tracer.
    events.received.tap(context.id, (envelope) => tracer?.received(envelope));
    events.stageStart.tap(context.id, (event) => tracer?.stageStart(event));
    events.stageEnd.tap(context.id, (event) => tracer?.stageEnd(event));
    events.tapEnd.tap(context.id, (event) => tracer?.tapEnd(event));
    events.retry.tap(context.id, (event) => tracer?.retry(event));
    events.security.tap(context.id, (event) => tracer?.security(event));
    events.settled.tap(context.id, (outcome, ctx) => tracer?.settled(outcome, ctx));
    events.deferred.tap(context.id, (event) => tracer?.deferred(event));

    return {
      start() {
        const url = tracesUrlOf(options.endpoint);
        exporter = new ReportingExporter(url, options.exportTimeoutMs, context.log);
        provider = new TracerProvider({
          resource: resourceFromAttributes({
            ...options.resourceAttributes,
            'service.name': options.serviceName,
            'service.version': CONDUCTOR_VERSION,
            'service.instance.id': options.instanceId ?? hostname(),
          }),
          sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio) }),
          spanProcessors: [
            new BatchSpanProcessor({ exporter, scheduledDelayMillis: options.scheduledDelayMs, exportTimeoutMillis: options.exportTimeoutMs }),
          ],
        });
        tracer = new IntentTracer(provider.getTracer('conductor', CONDUCTOR_VERSION));
        context.log.info({ endpoint: redactConfig(url), serviceName: options.serviceName }, 'tracing intents');
      },
      async stop(signal) {
        const stopping = provider;
        tracer?.endAll();
        tracer = undefined;
        provider = undefined;
        if (stopping === undefined) return;
        // shutdown() flushes the batch; a collector that does not answer must not hold up the
        // stop past its timeout (the spans are lost then, and said so).
        const aborted = new Promise<'aborted'>((resolve) => signal.addEventListener('abort', () => resolve('aborted'), { once: true }));
        const result = await Promise.race([stopping.shutdown().then(() => 'flushed' as const), aborted]);
        if (result === 'aborted') context.log.warn('trace export did not finish before the stop timeout; unsent spans are lost');
      },
      status: () => ({ ready: true, ...(exporter === undefined ? {} : { details: { ...exporter.counts } }) }),
    };
  },
});
