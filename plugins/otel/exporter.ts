// OTLP/HTTP export (JSON over HTTP, the exporter's default for Node), wrapped so that failures
// are counted and logged when the collector goes away and comes back, instead of spans
// vanishing without a word (OpenTelemetry's own diagnostics are silent by default).
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { redactConfig, type Logger } from '../../core/index.ts';

// The module objects, not ES module imports, which would load Node's bundled undici at start
// (see core/http/listen.ts).
const { Agent: HttpAgent } = process.getBuiltinModule('node:http');
const { Agent: HttpsAgent } = process.getBuiltinModule('node:https');

export interface ExportCounts {
  exportedSpans: number;
  failedSpans: number;
}

export class ReportingExporter implements SpanExporter {
  readonly counts: ExportCounts = { exportedSpans: 0, failedSpans: 0 };
  readonly #inner: SpanExporter;
  readonly #log: Logger;
  /** The endpoint as it may be logged: a password in the URL is redacted. */
  readonly #shownUrl: string;
  #failing = false;

  /** The exporter's keep-alive agents, destroyed on shutdown so no socket outlives stop(). */
  readonly #agents: InstanceType<typeof HttpAgent>[] = [];

  constructor(url: string, timeoutMs: number, log: Logger) {
    this.#inner = new OTLPTraceExporter({
      url,
      timeoutMillis: timeoutMs,
      httpAgentOptions: (protocol: string) => {
        const agent = protocol === 'https:' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
        this.#agents.push(agent);
        return agent;
      },
    });
    this.#log = log;
    this.#shownUrl = redactConfig(url);
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.#inner.export(spans, (result) => {
      this.#record(result, spans.length);
      resultCallback(result);
    });
  }

  async shutdown(): Promise<void> {
    try {
      await this.#inner.shutdown();
    } finally {
      for (const agent of this.#agents.splice(0)) agent.destroy();
    }
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush?.() ?? Promise.resolve();
  }

  #record(result: ExportResult, spans: number): void {
    if (result.code === ExportResultCode.SUCCESS) {
      this.counts.exportedSpans += spans;
      if (this.#failing) this.#log.info({ endpoint: this.#shownUrl }, 'trace export works again');
      this.#failing = false;
      return;
    }
    this.counts.failedSpans += spans;
    if (!this.#failing) {
      this.#log.warn(
        { endpoint: this.#shownUrl, reason: result.error?.message, spans },
        'trace export failed; spans are dropped until the collector answers',
      );
    }
    this.#failing = true;
  }
}
