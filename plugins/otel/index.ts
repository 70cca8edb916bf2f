// Tracing with the OpenTelemetry JS SDK (docs/architecture.md §Observability): one trace per intent with a span per
// stage, built from the host's events; the W3C traceparent put on each intent's context for sinks to
// send; OTLP/HTTP export to a collector, flushed on stop. The provider is this plugin's own and
// is not registered globally: nothing else in the process starts spans, and two pipelines in
// one process (tests) keep apart. The trace id reaches the status file and the audit log
// because the core copies ctx.trace.traceId into each outcome.
import { hostname } from 'node:os';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { CONDUCTOR_VERSION, definePlugin, redactConfig } from '../../core/index.ts';
import { ReportingExporter } from './exporter.ts';
import { resourceAttributes, sampler, sdkDisabled, tracesEndpoint } from './environment.ts';
import { HttpClientSpans } from './http-client-spans.ts';
import { IntentTracer } from './intent-tracer.ts';
import { DOCS, OPTIONS_SCHEMA } from './metadata.ts';

export default definePlugin({
  name: 'otel',
  kind: 'service',
  description: 'Traces every intent (a span per stage, a CLIENT span per HTTP request) and exports the traces over OTLP/HTTP.',
  optionsSchema: OPTIONS_SCHEMA,
  docs: DOCS,
  create(context, options) {
    let provider: TracerProvider | undefined;
    let exporter: ReportingExporter | undefined;
    let tracer: IntentTracer | undefined;
    let httpSpans: HttpClientSpans | undefined;

    return {
      // Tapped before start, and inert until start() builds the tracer.
      apply({ events }) {
        events.received.tap(context.id, (envelope, ctx) => tracer?.received(envelope, ctx));
        events.stageStart.tap(context.id, (event) => tracer?.stageStart(event));
        events.stageEnd.tap(context.id, (event) => tracer?.stageEnd(event));
        events.tapEnd.tap(context.id, (event) => tracer?.tapEnd(event));
        events.retry.tap(context.id, (event) => tracer?.retry(event));
        events.security.tap(context.id, (event) => tracer?.security(event));
        events.settled.tap(context.id, (outcome, ctx) => tracer?.settled(outcome, ctx));
        events.deferred.tap(context.id, (event) => tracer?.deferred(event));
      },
      start() {
        if (sdkDisabled()) {
          context.log.info('tracing is off: OTEL_SDK_DISABLED is true');
          return;
        }
        const endpoint = tracesEndpoint(options.endpoint);
        const chosen = sampler(options.sampleRatio);
        if (chosen.unsupported !== undefined) {
          context.log.warn(
            { sampler: chosen.unsupported },
            `OTEL_TRACES_SAMPLER "${chosen.unsupported}" is not supported here; using ${chosen.description}`,
          );
        }
        const attributes = resourceAttributes(
          { 'service.name': 'conductor', 'service.version': CONDUCTOR_VERSION, 'service.instance.id': options.instanceId ?? hostname() },
          { serviceName: options.serviceName, resourceAttributes: options.resourceAttributes },
        );
        // An explicit instanceId is an option, so it wins over the environment too.
        if (options.instanceId !== undefined) attributes['service.instance.id'] = options.instanceId;
        exporter = new ReportingExporter(endpoint.url, options.exportTimeoutMs, context.log);
        provider = new TracerProvider({
          resource: resourceFromAttributes(attributes),
          sampler: chosen.sampler,
          spanProcessors: [
            new BatchSpanProcessor({
              exporter,
              scheduledDelayMillis: options.scheduledDelayMs,
              exportTimeoutMillis: options.exportTimeoutMs,
            }),
          ],
        });
        const otelTracer = provider.getTracer('conductor', CONDUCTOR_VERSION);
        const intentTracer = new IntentTracer(otelTracer);
        tracer = intentTracer;
        httpSpans = new HttpClientSpans(otelTracer, (traceId) => intentTracer.owns(traceId));
        context.log.info(
          {
            endpoint: redactConfig(endpoint.url),
            endpointFrom: endpoint.from,
            serviceName: attributes['service.name'],
            sampler: chosen.description,
          },
          'tracing intents',
        );
      },
      async stop(signal) {
        const stopping = provider;
        httpSpans?.close();
        httpSpans = undefined;
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
