// A CLIENT span for every HTTP request made with undici (the porch sink's client, `fetch`),
// taken from undici's diagnostics channels, so no plugin has to instrument its own client.
// Attributes follow the HTTP client semantic conventions (http.request.method, url.full,
// server.address, server.port, http.response.status_code, error.type). A request that carries
// a W3C traceparent of one of this tracer's traces becomes a child of that span, and its header
// is rewritten to name the CLIENT span, so the server's spans hang below the request. A request
// carrying a traceparent this tracer did not make belongs to someone else and is left alone.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  defaultTextMapGetter,
  defaultTextMapSetter,
  trace,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/** The part of undici's Request the channels give us (undici's own type is internal). */
interface UndiciRequest {
  method: string;
  origin: string | URL;
  path: string;
  /** Flat [name, value, name, value, …]. */
  headers: string[] | string;
}

const propagator = new W3CTraceContextPropagator();

export class HttpClientSpans {
  readonly #tracer: Tracer;
  readonly #isOwnTrace: (traceId: string) => boolean;
  readonly #open = new WeakMap<object, Span>();
  readonly #handlers: [string, (message: unknown) => void][];

  /** `isOwnTrace` tells a trace of this tracer from one another tracer started. */
  constructor(tracer: Tracer, isOwnTrace: (traceId: string) => boolean) {
    this.#tracer = tracer;
    this.#isOwnTrace = isOwnTrace;
    this.#handlers = [
      ['undici:request:create', (m) => this.#create((m as { request: UndiciRequest }).request)],
      ['undici:request:headers', (m) => this.#headers(m as { request: object; response: { statusCode: number } })],
      ['undici:request:trailers', (m) => this.#end((m as { request: object }).request)],
      ['undici:request:error', (m) => this.#error(m as { request: object; error: Error & { code?: string } })],
    ];
    for (const [name, handler] of this.#handlers) subscribe(name, handler);
  }

  close(): void {
    for (const [name, handler] of this.#handlers) unsubscribe(name, handler);
  }

  #create(request: UndiciRequest): void {
    if (!Array.isArray(request.headers)) return;
    const at = request.headers.findIndex((value, i) => i % 2 === 0 && value.toLowerCase() === 'traceparent');
    let parent = ROOT_CONTEXT;
    if (at >= 0) {
      parent = propagator.extract(ROOT_CONTEXT, { traceparent: request.headers[at + 1] }, defaultTextMapGetter);
      const traceId = trace.getSpanContext(parent)?.traceId;
      if (traceId === undefined || !this.#isOwnTrace(traceId)) return;
    }
    let url: URL;
    try {
      url = new URL(request.path, request.origin);
    } catch {
      return;
    }
    const method = request.method.toUpperCase();
    const span = this.#tracer.startSpan(
      method,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': method,
          'url.full': url.toString(),
          'server.address': url.hostname,
          'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
        },
      },
      parent,
    );
    this.#open.set(request, span);
    if (at >= 0) {
      const carrier: Record<string, string> = {};
      propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, defaultTextMapSetter);
      if (carrier['traceparent'] !== undefined) request.headers[at + 1] = carrier['traceparent'];
    }
  }

  #headers({ request, response }: { request: object; response: { statusCode: number } }): void {
    const span = this.#open.get(request);
    if (span === undefined) return;
    span.setAttribute('http.response.status_code', response.statusCode);
    if (response.statusCode >= 400) {
      span.setAttribute('error.type', String(response.statusCode));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
  }

  #end(request: object): void {
    this.#open.get(request)?.end();
    this.#open.delete(request);
  }

  #error({ request, error }: { request: object; error: Error & { code?: string } }): void {
    const span = this.#open.get(request);
    if (span === undefined) return;
    span.setAttribute('error.type', error.code ?? error.name);
    span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    this.#end(request);
  }
}
