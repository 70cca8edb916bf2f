// One trace per intent, built from the host's events: a root span from `received` to
// `settled` (or `deferred`), and one child span per stage from stageStart to stageEnd. The
// stage's context object identifies the intent (a WeakMap, so a forgotten intent costs nothing).
// The trace id goes on the context at `received`, before anything can fail, so that every record
// of the intent (status file, error file, audit line, log lines) carries it — an intent that
// does not even parse included. At every stage start the W3C traceparent of that stage's span
// is put on the context, for sinks to send with their requests (a Porch call is then a child of
// `submit`). A failing stage's span is marked as an error, with the error recorded on it.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapSetter, trace, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type {
  Envelope,
  Outcome,
  StageContext,
  StageEndEvent,
  StageEvent,
  TapEndEvent,
  RetryEvent,
  SecurityEvent,
} from '../../core/index.ts';

interface IntentTrace {
  root: Span;
  /** The open span of each stage; a retried submit opens a new one per attempt. */
  stages: Map<string, Span>;
  file: string;
  /** Whether the context's logger already carries the trace id. */
  logBound: boolean;
  traceId: string;
}

const propagator = new W3CTraceContextPropagator();

export class IntentTracer {
  readonly #tracer: Tracer;
  readonly #byContext = new WeakMap<StageContext, IntentTrace>();
  /** Traces not yet ended, by file: found by `deferred` (which has no context) and ended on stop. */
  readonly #open = new Map<string, IntentTrace>();
  /** Trace ids of the open traces: tells this tracer's requests from another's. */
  readonly #openIds = new Set<string>();

  constructor(tracer: Tracer) {
    this.#tracer = tracer;
  }

  received(envelope: Envelope, ctx?: StageContext): void {
    // A file offered again while its previous trace is open (it should not be) ends that trace.
    this.#end(this.#open.get(envelope.file), 'superseded');
    const root = this.#tracer.startSpan(
      'intent',
      {
        kind: SpanKind.CONSUMER,
        startTime: envelope.receivedAt,
        attributes: { 'conductor.file': envelope.file, 'conductor.source': envelope.source },
      },
      ROOT_CONTEXT,
    );
    const traceId = root.spanContext().traceId;
    const intent: IntentTrace = { root, stages: new Map(), file: envelope.file, logBound: false, traceId };
    this.#open.set(envelope.file, intent);
    this.#openIds.add(traceId);
    if (ctx !== undefined) {
      this.#byContext.set(ctx, intent);
      this.#bind(ctx, intent, root);
    }
  }

  /** Whether the trace is one of this tracer's, still open (an intent being processed). */
  owns(traceId: string): boolean {
    return this.#openIds.has(traceId);
  }

  stageStart({ stage, ctx }: StageEvent): void {
    const intent = this.#traceOf(ctx);
    if (intent === undefined) return;
    const span = this.#tracer.startSpan(
      stage,
      {
        kind: SpanKind.INTERNAL,
        attributes: { 'conductor.stage': stage, ...(stage === 'submit' ? { 'conductor.attempt': ctx.attempt } : {}) },
      },
      trace.setSpan(ROOT_CONTEXT, intent.root),
    );
    intent.stages.set(stage, span);
    this.#bind(ctx, intent, span);
  }

  /** Puts the trace id and the traceparent of `span` on the context (and the id on its logger). */
  #bind(ctx: StageContext, intent: IntentTrace, span: Span): void {
    const carrier: Record<string, string> = {};
    propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, defaultTextMapSetter);
    ctx.trace.traceId = intent.traceId;
    if (carrier['traceparent'] !== undefined) ctx.trace.traceparent = carrier['traceparent'];
    if (!intent.logBound) {
      // Everything logged about this intent through its context logger carries the trace id.
      ctx.log.setBindings({ traceId: intent.traceId });
      intent.logBound = true;
    }
  }

  stageEnd({ stage, ctx, error }: StageEndEvent): void {
    const intent = this.#byContext.get(ctx);
    const span = intent?.stages.get(stage);
    if (intent === undefined || span === undefined) return;
    intent.stages.delete(stage);
    if (error !== undefined) {
      span.setAttributes({ 'conductor.error.code': error.code, 'conductor.error.kind': error.kind, 'error.type': error.code });
      span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: `${error.code}: ${error.message}` });
    }
    span.end();
  }

  /** A plugin's part of a stage, as an event on the stage's span. */
  tapEnd({ stage, plugin, ctx, durationMs, error }: TapEndEvent): void {
    this.#byContext
      .get(ctx)
      ?.stages.get(stage)
      ?.addEvent('plugin', {
        'conductor.plugin': plugin,
        'conductor.duration_ms': durationMs,
        ...(error === undefined ? {} : { 'conductor.error.code': error.code }),
      });
  }

  retry({ ctx, error, delayMs }: RetryEvent): void {
    this.#byContext
      .get(ctx)
      ?.root.addEvent('retry', { 'conductor.error.code': error.code, 'conductor.delay_ms': delayMs, 'conductor.attempt': ctx.attempt });
  }

  security({ type, file, stage }: SecurityEvent): void {
    this.#open.get(file)?.root.addEvent('security', { 'conductor.security.type': type, 'conductor.stage': stage });
  }

  settled(outcome: Outcome, ctx: StageContext | undefined): void {
    const intent = (ctx === undefined ? undefined : this.#byContext.get(ctx)) ?? this.#open.get(outcome.file);
    if (intent === undefined) return;
    intent.root.setAttributes({
      'conductor.intent.id': outcome.intentId,
      'conductor.stage': outcome.stage,
      'conductor.attempts': outcome.attempts,
      ...(outcome.code === undefined ? {} : { 'conductor.error.code': outcome.code }),
    });
    if (outcome.status === 'failed') {
      intent.root.setAttribute('error.type', outcome.code ?? 'failed');
      intent.root.setStatus({ code: SpanStatusCode.ERROR, message: `${outcome.code ?? 'failed'}: ${outcome.message}` });
    }
    this.#end(intent, outcome.status);
  }

  deferred({ file, intentId, reason }: { file: string; intentId: string; reason: string }): void {
    const intent = this.#open.get(file);
    if (intent === undefined) return;
    intent.root.setAttributes({ 'conductor.intent.id': intentId, 'conductor.deferred.reason': reason });
    this.#end(intent, 'deferred');
  }

  /** Ends what is still open (intents abandoned at shutdown), so their spans are exported too. */
  endAll(): void {
    // Deleting the entry being visited is safe while iterating a Map.
    for (const intent of this.#open.values()) this.#end(intent, 'abandoned');
  }

  #traceOf(ctx: StageContext): IntentTrace | undefined {
    let intent = this.#byContext.get(ctx);
    if (intent === undefined) {
      intent = this.#open.get(ctx.file);
      if (intent !== undefined) this.#byContext.set(ctx, intent);
    }
    return intent;
  }

  #end(intent: IntentTrace | undefined, outcome: string): void {
    if (intent === undefined) return;
    for (const span of intent.stages.values()) span.end();
    intent.stages.clear();
    intent.root.setAttribute('conductor.outcome', outcome);
    intent.root.end();
    this.#openIds.delete(intent.traceId);
    if (this.#open.get(intent.file) === intent) this.#open.delete(intent.file);
  }
}
