// A thin JSON client for the Kubernetes API over undici (docs/porch.md §Content types: JSON
// only). One connection pool per server, capped at `concurrency` sockets; every request goes
// through the server's circuit breaker, carries the bearer token (re-read after a 401) and the
// caller's W3C traceparent. Failures come out as ApiError (the server answered) or
// TransportError (it did not); errors.ts decides what they mean for an intent.
//
// Like client-go, each request is retried a few times on its own when the failure says "not
// now" (429, 502/503, a connection refused) or when repeating it is safe: every read, and every
// write we send is conditional (a create names a unique workspace, an update carries the
// resourceVersion it read), so a repeated write that went through the first time is refused, not
// applied twice. Write answers with a meaning of their own (a 504 or a lost reply: "maybe
// applied"; a stale resourceVersion; a duplicate workspace) go straight to the flow, which looks
// again. One intent attempt (a flow) thus survives the scattered faults of a busy server, and the
// core's attempts count flows, not requests.
import { Agent } from 'undici';
import { CircuitBreaker, ConductorError, backoffDelay, parseRetryAfter, sleep } from '../../core/index.ts';
import type { ClientCertificate, Connection } from './auth.ts';
import { SecretSet } from './redact.ts';
import { hasKnownMeaning } from './server-messages.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestOptions {
  method: Method;
  /** The API path without the server's base path, e.g. /apis/porch.kpt.dev/v1alpha1/... */
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  signal?: AbortSignal;
  traceparent?: string | undefined;
}

/** A Kubernetes `Status` (docs/porch.md §Errors), or what we made of a non-Status body. */
export interface StatusBody {
  reason: string;
  message: string;
  details?: Record<string, unknown>;
}

/** The server answered with a non-2xx status. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  readonly reason: string;
  /** The server's own words (Status.message, or the text of a non-Status body). */
  readonly serverMessage: string;
  readonly details: Record<string, unknown> | undefined;
  readonly retryAfterMs: number | undefined;
  readonly method: Method;
  readonly path: string;

  constructor(init: { status: number; body: StatusBody; retryAfterMs: number | undefined; method: Method; path: string }) {
    super(`${init.method} ${init.path} answered ${init.status}${init.body.reason ? ` ${init.body.reason}` : ''}: ${init.body.message}`);
    this.serverMessage = init.body.message;
    this.status = init.status;
    this.reason = init.body.reason;
    this.details = init.body.details;
    this.retryAfterMs = init.retryAfterMs;
    this.method = init.method;
    this.path = init.path;
  }
}

export type TransportFailure = 'tls' | 'connect' | 'timeout' | 'connection-lost' | 'aborted';

/** No answer: the connection failed, was lost, timed out, or the caller gave up. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  readonly failure: TransportFailure;
  /** The OS or TLS error code underneath (ECONNREFUSED, UNABLE_TO_VERIFY_LEAF_SIGNATURE, …). */
  readonly code: string | undefined;
  readonly method: Method;
  readonly path: string;

  constructor(
    failure: TransportFailure,
    message: string,
    init: { code: string | undefined; method: Method; path: string; cause: unknown },
  ) {
    super(message, { cause: init.cause });
    this.failure = failure;
    this.code = init.code;
    this.method = init.method;
    this.path = init.path;
  }

  /** Nothing reached the server: a write did not happen. Anything else may hide an applied write. */
  get neverSent(): boolean {
    return this.failure === 'tls' || this.failure === 'connect';
  }
}

/** What the client last learned about our credentials, for readiness. */
export interface CredentialState {
  ok: boolean;
  message: string;
}

/** How often one request is repeated before its failure goes to the flow. */
export interface RequestRetryPolicy {
  /** Repeats after the first try (client-go's default is 10; a flow makes several requests). */
  maxRetries: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** A longer Retry-After is not waited for here: the intent goes back to the core, which waits. */
  maxRetryAfterMs: number;
  /** No repeat starts later than this after the first try (waits included). */
  budgetMs: number;
}

export const DEFAULT_REQUEST_RETRY: RequestRetryPolicy = {
  maxRetries: 6,
  initialDelayMs: 100,
  maxDelayMs: 4_000,
  maxRetryAfterMs: 32_000,
  budgetMs: 60_000,
};

export interface ClientOptions {
  connection: Connection;
  timeoutMs: number;
  concurrency: number;
  breaker: CircuitBreaker;
  retry?: Partial<RequestRetryPolicy>;
  /** Called before each repeat (for debug logs). */
  onRetry?: (event: { method: Method; path: string; retry: number; delayMs: number; error: Error }) => void;
}

const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|^ERR_TLS_|^ERR_SSL_|^EPROTO$/;
const CONNECT_CODE = /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|UND_ERR_CONNECT_TIMEOUT)$/;

export class KubeClient {
  readonly connection: Connection;
  readonly breaker: CircuitBreaker;
  #agent: Agent;
  /** The exec plugin's client certificate the current pool presents (undefined: the static one). */
  #agentCertificate: ClientCertificate | undefined;
  readonly #concurrency: number;
  readonly #timeoutMs: number;
  readonly #retry: RequestRetryPolicy;
  readonly #onRetry: ClientOptions['onRetry'];
  /** The tokens we sent and the client key: removed from every text a server sends back. */
  readonly #secrets = new SecretSet();
  #credentials: CredentialState = { ok: true, message: 'not contacted yet' };

  constructor(options: ClientOptions) {
    this.connection = options.connection;
    this.breaker = options.breaker;
    this.#timeoutMs = options.timeoutMs;
    this.#concurrency = options.concurrency;
    this.#retry = { ...DEFAULT_REQUEST_RETRY, ...options.retry };
    this.#onRetry = options.onRetry;
    this.#secrets.add(options.connection.tls.key);
    this.#agent = this.#newAgent(undefined);
  }

  /** A connection pool presenting `certificate` (an exec plugin's), else the configured one. */
  #newAgent(certificate: ClientCertificate | undefined): Agent {
    const { ca, rejectUnauthorized, servername } = this.connection.tls;
    const cert = certificate?.cert ?? this.connection.tls.cert;
    const key = certificate?.key ?? this.connection.tls.key;
    return new Agent({
      connections: this.#concurrency,
      connect: {
        rejectUnauthorized,
        ...(ca === undefined ? {} : { ca }),
        ...(cert === undefined ? {} : { cert }),
        ...(key === undefined ? {} : { key }),
        ...(servername === undefined ? {} : { servername }),
      },
      headersTimeout: this.#timeoutMs,
      bodyTimeout: this.#timeoutMs,
    });
  }

  /**
   * The pool to send with. A client certificate from an exec plugin is presented at the TLS
   * handshake, so a new one (after expiry or a 401) needs new connections: a new pool, while
   * the old one finishes what it carries and closes.
   */
  async #currentAgent(): Promise<Agent> {
    const source = this.connection.token;
    if (source?.clientCertificate === undefined) return this.#agent;
    const certificate = await source.clientCertificate();
    if (certificate === undefined || (certificate.cert === this.#agentCertificate?.cert && certificate.key === this.#agentCertificate.key))
      return this.#agent;
    this.#secrets.add(certificate.key);
    const old = this.#agent;
    this.#agent = this.#newAgent(certificate);
    this.#agentCertificate = certificate;
    void old.close().catch(() => old.destroy());
    return this.#agent;
  }

  get credentials(): CredentialState {
    return this.#credentials;
  }

  async close(): Promise<void> {
    await this.#agent.close().catch(() => this.#agent.destroy());
  }

  /**
   * Sends one request and returns the parsed JSON body of a 2xx answer, repeating it (each try
   * through the circuit breaker) while its failure is worth a repeat; see the file's head.
   */
  async request<T>(options: RequestOptions): Promise<T> {
    const started = Date.now();
    for (let retry = 0; ; retry += 1) {
      try {
        return await this.breaker.run(() => this.#withTokenReload<T>(options), isServerFailure);
      } catch (error) {
        const delayMs = retry < this.#retry.maxRetries ? this.#retryDelay(error, options.method, retry + 1) : undefined;
        if (delayMs === undefined || options.signal?.aborted || Date.now() - started + delayMs > this.#retry.budgetMs) throw error;
        this.#onRetry?.({ method: options.method, path: options.path, retry: retry + 1, delayMs, error: error as Error });
        await sleep(delayMs, options.signal);
      }
    }
  }

  /** How long to wait before repeating after `error`, or undefined when it must not be repeated here. */
  #retryDelay(error: unknown, method: Method, retry: number): number | undefined {
    if (!isRepeatable(error, method)) return undefined;
    const backoff = backoffDelay(retry, {
      maxAttempts: 0,
      initialDelayMs: this.#retry.initialDelayMs,
      maxDelayMs: this.#retry.maxDelayMs,
      budgetMs: 0,
    });
    const retryAfterMs = error instanceof ApiError ? error.retryAfterMs : undefined;
    if (retryAfterMs === undefined) return backoff;
    if (retryAfterMs > this.#retry.maxRetryAfterMs) return undefined;
    // The server's word, plus a little jitter so that many waiting requests do not return at once.
    return retryAfterMs + Math.floor(backoff / 4);
  }

  /** A 401 after a token rotation: read the file again and repeat once with the new token. */
  async #withTokenReload<T>(options: RequestOptions): Promise<T> {
    try {
      return await this.#send<T>(options);
    } catch (error) {
      const token = this.connection.token;
      if (!(error instanceof ApiError && error.status === 401) || token === undefined) throw error;
      if (!(await token.reload().catch(() => false))) throw error;
      return await this.#send<T>(options);
    }
  }

  async #send<T>(options: RequestOptions): Promise<T> {
    const { method } = options;
    const path = this.connection.basePath + options.path + queryString(options.query);
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = await this.#token();
    if (token !== undefined) {
      this.#secrets.add(token);
      headers['authorization'] = `Bearer ${token}`;
    }
    if (options.traceparent) headers['traceparent'] = options.traceparent;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const agent = await this.#credentialed(() => this.#currentAgent());
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
    let status: number;
    let responseHeaders: Record<string, string | string[] | undefined>;
    let text: string;
    try {
      const response = await agent.request({ origin: this.connection.origin, path, method, headers, body, signal });
      status = response.statusCode;
      responseHeaders = response.headers;
      text = await response.body.text();
    } catch (error) {
      throw this.#transportError(error, method, options.path, options.signal, timeout);
    }
    if (status === 401) {
      this.#credentials = {
        ok: false,
        message: `${this.connection.origin} rejected the credentials (401 Unauthorized) from ${this.connection.token?.description ?? 'no token'}`,
      };
    } else {
      this.#credentials = { ok: true, message: `authenticated to ${this.connection.origin}` };
    }
    const contentType = String(responseHeaders['content-type'] ?? '');
    if (status >= 200 && status < 300) {
      try {
        return JSON.parse(text) as T;
      } catch {
        // Not the parser's message: it quotes the start of the text, which may be a credential cut
        // short where no redaction recognises it. (A good answer is never redacted: package files
        // may hold PEM blocks of their own, and are written back.)
        const message = `${method} ${options.path}: the answer (${text.length} characters of ${contentType || 'no content type'}) is not JSON`;
        throw new ApiError({ status: 502, body: { reason: 'BadResponse', message }, retryAfterMs: undefined, method, path: options.path });
      }
    }
    throw new ApiError({
      status,
      // A refusal may quote the request, credentials included: they are removed before the
      // server's words become part of any error (and so of records, logs, spans and /ready).
      body: this.#secrets.redactValue(statusBody(status, this.#secrets.redact(text), contentType)),
      retryAfterMs: parseRetryAfter(responseHeaders['retry-after']),
      method,
      path: options.path,
    });
  }

  async #token(): Promise<string | undefined> {
    const source = this.connection.token;
    if (source === undefined) return undefined;
    return this.#credentialed(() => source.current());
  }

  /** Runs a credential step; its failure is what readiness reports about the credentials. */
  async #credentialed<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      this.#credentials = { ok: false, message: (error as Error).message };
      throw error;
    }
  }

  #transportError(
    error: unknown,
    method: Method,
    path: string,
    callerSignal: AbortSignal | undefined,
    timeout: AbortSignal,
  ): TransportError {
    const code = errorCode(error);
    const where = `${method} ${this.connection.origin}${path}`;
    const init = { code, method, path, cause: error };
    if (callerSignal?.aborted) return new TransportError('aborted', `${where}: cancelled`, init);
    if (timeout.aborted) return new TransportError('timeout', `${where}: no answer within ${this.#timeoutMs} ms`, init);
    const detail = deepestMessage(error);
    if (code !== undefined && TLS_CODE.test(code)) {
      const message = `TLS certificate of ${this.connection.origin} not accepted (${code}: ${detail}); check the CA (caFile, the kubeconfig's certificate-authority, or the service account's ca.crt)`;
      this.#credentials = { ok: false, message };
      return new TransportError('tls', message, init);
    }
    if (code !== undefined && CONNECT_CODE.test(code))
      return new TransportError('connect', `${where}: cannot connect (${code}: ${detail})`, init);
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT')
      return new TransportError('timeout', `${where}: no answer within ${this.#timeoutMs} ms`, init);
    return new TransportError('connection-lost', `${where}: connection lost (${code ?? 'no code'}: ${detail})`, init);
  }
}

/**
 * Worth repeating inside the client: "not now" answers for any method; for reads, also a lost
 * connection or a 504. Never a refusal the flow or the classifier must see.
 */
export function isRepeatable(error: unknown, method: Method): boolean {
  if (error instanceof ConductorError) return false; // the circuit is open: fail fast
  const read = method === 'GET';
  // Not a timeout: the server had timeoutMs already, and repeating it would multiply that wait.
  if (error instanceof TransportError) return error.failure === 'connect' || (read && error.failure === 'connection-lost');
  if (!(error instanceof ApiError)) return false;
  const { status } = error;
  if (status === 429 || status === 503 || status === 502) return true;
  if (status === 504) return read; // a write may have been applied: the flow reads before repeating it
  if (status === 500) return !hasKnownMeaning(error.serverMessage);
  return false;
}

/** The circuit counts what says "this server is not working": no answer, or a 5xx. */
export function isServerFailure(error: unknown): boolean {
  if (error instanceof TransportError) return error.failure !== 'aborted';
  return error instanceof ApiError && error.status >= 500;
}

function queryString(query: Record<string, string> | undefined): string {
  if (query === undefined) return '';
  const text = new URLSearchParams(query).toString();
  return text === '' ? '' : `?${text}`;
}

/**
 * A Kubernetes Status from the body, or — for the text/plain 429 of flow control (docs/porch.md
 * §Rate limiting) and proxies' HTML pages — the text itself as the message.
 */
function statusBody(status: number, text: string, contentType: string): StatusBody {
  if (contentType.includes('json')) {
    try {
      const parsed = JSON.parse(text) as { kind?: unknown; reason?: unknown; message?: unknown; details?: unknown };
      if (parsed && typeof parsed === 'object') {
        return {
          reason: typeof parsed.reason === 'string' ? parsed.reason : '',
          message: typeof parsed.message === 'string' && parsed.message !== '' ? parsed.message : `HTTP ${status}`,
          ...(parsed.details && typeof parsed.details === 'object' ? { details: parsed.details as Record<string, unknown> } : {}),
        };
      }
    } catch {
      // fall through to the text
    }
  }
  const trimmed = text.trim().slice(0, 500);
  return { reason: '', message: trimmed === '' ? `HTTP ${status}` : trimmed };
}

function errorCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current !== null && typeof current === 'object' && depth < 5; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET' && code !== 'UND_ERR_ABORTED') return code;
    current = (current as { cause?: unknown }).cause;
  }
  const top = (error as { code?: unknown } | null)?.code;
  return typeof top === 'string' ? top : undefined;
}

function deepestMessage(error: unknown): string {
  let message = error instanceof Error ? error.message : String(error);
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    if (current.message) message = current.message;
    current = current.cause;
  }
  return message;
}
