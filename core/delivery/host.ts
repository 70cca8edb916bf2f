// The running pipeline: takes envelopes from sources, runs them through the stage hooks with
// the ledger's bookkeeping, and hands each one back to its source with a terminal outcome
// (ack) or as not done (release). This is where "at-least-once delivery, exactly-once effect"
// (docs/architecture.md §Delivery protocol) is made: the sink recognises an effect by its identity, so a delivery
// repeated after any crash is a no-op there, and the ledger records each outcome before the source lets go.
import type { Envelope, Intent, Outcome, Receipt } from '../intent/types.ts';
import type { Claim, EventHooks, StageContext, StageHooks } from '../bus/hooks.ts';
import { ConductorError, rejectIntent, toConductorError } from '../errors.ts';
import { decodeUtf8, parseIntentJson } from '../intent/parse.ts';
import { canonicalOnce, contentHash, intentIdOf, rawIdOf } from '../intent/identity.ts';
import { withRetry, type RetryPolicy } from './retry.ts';
import { KeyedSerializer, Semaphore } from './semaphore.ts';
import type { Ledger, LedgerRecord } from './ledger.ts';
import { crashPoint } from './crash-points.ts';
import type { Logger } from '../log.ts';
import type { PluginStatus } from '../plugin/types.ts';

/** Failures that an incomplete write can cause: confirmed with the source before they are final. */
const MAY_BE_INCOMPLETE = new Set<string>(['CND_ERR_INTENT_PARSE', 'CND_ERR_INTENT_ENCODING']);

/** True when a hook has a tap or an interceptor: someone to tell. */
function listened(hook: { taps: readonly unknown[]; interceptors: readonly unknown[] }): boolean {
  return hook.taps.length > 0 || hook.interceptors.length > 0;
}

/** The claim a single process always holds. */
const LOCAL_CLAIM: Claim = { release: async () => undefined };

export interface HostStats {
  /** Intents admitted and not yet settled. */
  inFlight: number;
  /** Items sources reported as waiting (e.g. files in handoff/ not yet admitted). */
  backlog: number;
  succeeded: number;
  failed: number;
  duplicate: number;
  deferred: number;
  superseded: number;
}

/** Facts about the running process that outlive one pipeline (a reload builds a new one). */
export interface RuntimeInfo {
  /** A short hash of the resolved config in force. */
  configHash: string;
  configSource: string;
  reloads: { applied: number; refused: number };
}

export interface Readiness {
  /** True once every plugin started (the startup probe). */
  started: boolean;
  /**
   * Started, not stopping, and every plugin of the pod itself reports ready. A sink's status is
   * the state of the system behind it (Porch, a remote): it is reported, in `plugins` and
   * `downstream`, but does not make the pod unready — an outage there must not take every pod
   * out of its Service (metrics vanish), stall rollouts or block node drains.
   */
  ready: boolean;
  plugins: Record<string, PluginStatus>;
  /** The ids in `plugins` whose status is a downstream system's (sinks). */
  downstream?: string[];
}

/** A place in the pipeline, held from before the source reads an item until it settles. */
export interface Slot {
  /** Runs the envelope through the pipeline; resolves with its outcome, or undefined if deferred. */
  process(envelope: Envelope): Promise<Outcome | undefined>;
  /** Gives the place back without processing anything (the item vanished, say). */
  release(): void;
}

/** What plugins see of the running pipeline (its event hooks come to each plugin in `apply`). */
export interface Host {
  readonly retryPolicy: RetryPolicy;
  readonly stopping: boolean;
  /** Waits for a free place (backpressure): sources call it before reading the next item. */
  acquire(): Promise<Slot>;
  /**
   * Asks the coordination plugins (if any) for the item named `key` before reading it.
   * Undefined means another replica holds it: skip it and offer it again later.
   */
  claim(key: string): Promise<Claim | undefined>;
  /** Sources report how many items wait outside the pipeline (queue depth). */
  setBacklog(source: string, count: number): void;
  stats(): HostStats;
  readiness(): Readiness;
  /** Ledger record counts by status, for metrics and status commands. */
  ledgerCounts(): Record<string, number>;
  runtime(): RuntimeInfo;
  /** Forgets settled intents older than `before` (ms since the epoch); returns how many (retention). */
  pruneLedger(before: number): number;
  /** Writes a consistent copy of the ledger to `path` (backup). */
  snapshotLedger(path: string): void;
}

export interface PipelineOptions {
  stages: StageHooks;
  events: EventHooks;
  ledger: Ledger;
  log: Logger;
  concurrency: number;
  retry: RetryPolicy;
  readiness: () => Readiness;
  runtime: RuntimeInfo;
}

export class Pipeline implements Host {
  readonly events: EventHooks;
  readonly retryPolicy: RetryPolicy;
  readonly #stages: StageHooks;
  readonly #ledger: Ledger;
  readonly #log: Logger;
  readonly #slots: Semaphore;
  readonly #targets = new KeyedSerializer();
  /** One intent id at a time: two files with one correlation_id must not both pass the ledger check. */
  readonly #ids = new KeyedSerializer();
  readonly #abort = new AbortController();
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #backlog = new Map<string, number>();
  readonly #readiness: () => Readiness;
  readonly #runtime: RuntimeInfo;
  readonly #counts = { succeeded: 0, failed: 0, duplicate: 0, deferred: 0, superseded: 0 };
  #admitted = 0;
  #stopping = false;

  constructor(options: PipelineOptions) {
    this.events = options.events;
    this.retryPolicy = options.retry;
    this.#stages = options.stages;
    this.#ledger = options.ledger;
    this.#log = options.log;
    this.#slots = new Semaphore(options.concurrency);
    this.#readiness = options.readiness;
    this.#runtime = options.runtime;
  }

  runtime(): RuntimeInfo {
    return this.#runtime;
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  async acquire(): Promise<Slot> {
    await this.#slots.acquire();
    this.#admitted += 1;
    let used = false;
    const giveBack = () => {
      if (used) return;
      used = true;
      this.#admitted -= 1;
      this.#slots.release();
    };
    return {
      process: (envelope) => {
        if (used) return Promise.reject(new Error('a slot processes one envelope'));
        if (this.#stopping) {
          // Draining: nothing new enters (the ledger may be closed already); it stays with its source.
          giveBack();
          envelope.release('the pipeline is stopping');
          return Promise.resolve(undefined);
        }
        const run: Promise<Outcome | undefined> = this.#process(envelope).finally(() => {
          giveBack();
          this.#inFlight.delete(run);
        });
        this.#inFlight.add(run);
        return run;
      },
      release: giveBack,
    };
  }

  async claim(key: string): Promise<Claim | undefined> {
    const claim = await this.#stages.claim.promise(key);
    if (claim === null) return undefined;
    return claim ?? LOCAL_CLAIM;
  }

  setBacklog(source: string, count: number): void {
    this.#backlog.set(source, count);
  }

  stats(): HostStats {
    let backlog = 0;
    for (const n of this.#backlog.values()) backlog += n;
    return { inFlight: this.#admitted, backlog, ...this.#counts };
  }

  readiness(): Readiness {
    return this.#readiness();
  }

  ledgerCounts(): Record<string, number> {
    return this.#ledger.counts();
  }

  pruneLedger(before: number): number {
    return this.#ledger.prune(before);
  }

  snapshotLedger(path: string): void {
    this.#ledger.snapshot(path);
  }

  /**
   * Stops intake and waits up to `deadlineMs` for in-flight intents. Waits inside the pipeline
   * (rate limit, backoff) are cut short: those intents are released, not failed.
   */
  async drain(deadlineMs: number): Promise<{ abandoned: number }> {
    this.#stopping = true;
    this.#slots.close();
    this.#abort.abort();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), deadlineMs);
    });
    const result = await Promise.race([Promise.allSettled(this.#inFlight).then(() => 'done' as const), deadline]);
    clearTimeout(timer);
    return { abandoned: result === 'timeout' ? this.#inFlight.size : 0 };
  }

  /**
   * Runs only the checking stages (parse, validate, sanitize) on an envelope, touching nothing:
   * what `conductor validate FILE` and config tests use.
   */
  async check(envelope: Envelope): Promise<{ intentId: string; intent?: Intent; error?: ConductorError }> {
    const { ctx, identify } = this.#context(envelope, envelope.intentId);
    try {
      if (envelope.refusal !== undefined) throw envelope.refusal;
      const raw = this.#parse(envelope);
      identify(envelope.intentId ?? intentIdOf(envelope.file, raw));
      const intent = await this.#validateAndSanitize(raw as unknown as Intent, ctx);
      return { intentId: ctx.intentId, intent };
    } catch (error) {
      return { intentId: ctx.intentId, error: toConductorError(error, { intentId: ctx.intentId }) };
    }
  }

  async #process(envelope: Envelope): Promise<Outcome | undefined> {
    const startedAt = new Date();
    const { ctx, identify } = this.#context(envelope, envelope.intentId);
    this.events.received.call(envelope, ctx);
    let prior: LedgerRecord | undefined;
    try {
      if (envelope.refusal !== undefined) throw envelope.refusal;
      const raw = this.#parse(envelope);
      const rawCanonical = canonicalOnce(raw);
      // The real id is known once parsed (observers at `received` saw the id of the raw bytes).
      identify(envelope.intentId ?? intentIdOf(envelope.file, raw, rawCanonical));
      const intent = await this.#validateAndSanitize(raw as unknown as Intent, ctx);
      // Sanitizers that change nothing hand the parsed intent back (taps never change what they
      // are given): its canonical JSON, made for the id, is the content's too.
      const hash = contentHash(intent, intent === (raw as unknown) ? rawCanonical : undefined);
      ctx.contentHash = hash;
      return await this.#ids.run(ctx.intentId, async () => {
        prior = this.#ledger.get(ctx.intentId);
        if (prior?.status === 'succeeded') return await this.#alreadyDone(envelope, ctx, prior, hash, startedAt);
        const record = await this.#targets.run(`${intent.namespace}/${intent.target}`, () => this.#deliver(intent, hash, ctx, prior));
        return await this.#settle(envelope, ctx, record, {
          status: 'succeeded',
          stage: 'submit',
          message: 'submitted',
          receipt: record.receipt ?? undefined,
          startedAt,
        });
      });
    } catch (thrown) {
      const error = toConductorError(thrown, { intentId: ctx.intentId });
      try {
        if (MAY_BE_INCOMPLETE.has(error.code) && !(await this.#stillWhole(envelope))) return this.#defer(envelope, ctx);
        if (error.code === 'CND_ERR_INTENT_SUPERSEDED')
          return await this.#settleWithoutEffect('superseded', envelope, ctx, error, prior, startedAt);
        if (error.kind !== 'permanent') return this.#defer(envelope, ctx, error);
        return await this.#fail(envelope, ctx, error, prior, startedAt);
      } catch (recording) {
        // The outcome could not be recorded (the ledger failed): the intent stays with its
        // source and is offered again, never lost and never an unhandled rejection.
        return this.#defer(envelope, ctx, toConductorError(recording, { intentId: ctx.intentId }));
      }
    }
  }

  #parse(envelope: Envelope): Record<string, unknown> {
    return parseIntentJson(decodeUtf8(envelope.bytes));
  }

  async #validateAndSanitize(intent: Intent, ctx: StageContext): Promise<Intent> {
    // A rejection is thrown inside the stage, so it ends the stage as an error for observers.
    await this.#stage('validate', ctx, async () => {
      const rejection = await this.#stages.validate.promise(intent, ctx);
      if (rejection) {
        throw rejectIntent(rejection.message, {
          code: rejection.code ?? 'CND_ERR_INTENT_INVALID',
          stage: 'validate',
          ...(rejection.plugin === undefined ? {} : { plugin: rejection.plugin }),
          ...(rejection.securityEvent === undefined ? {} : { securityEvent: rejection.securityEvent }),
        });
      }
    });
    return this.#stage('sanitize', ctx, () => this.#stages.sanitize.promise(intent, ctx));
  }

  /**
   * Rate limit and submit, then record the result. Nothing is written to the ledger before the
   * sink is called: the sink recognises an earlier effect of this intent by its identity (id,
   * content hash, order), so a record of an attempt in flight would prevent nothing a crash can
   * cause — the ledger is a cache, and every guarantee holds without it. One durable row per
   * delivery (succeeded, committed before the source lets go), and the settled mark after.
   */
  async #deliver(intent: Intent, hash: string, ctx: StageContext, prior: LedgerRecord | undefined): Promise<LedgerRecord> {
    const now = Date.now();
    const record: LedgerRecord = {
      intentId: ctx.intentId,
      contentHash: hash,
      file: ctx.file,
      target: `${intent.namespace}/${intent.target}`,
      status: 'submitting',
      stage: 'rate-limit',
      attempts: prior?.attempts ?? 0,
      receipt: null,
      code: null,
      message: null,
      createdAt: prior?.createdAt ?? now,
      updatedAt: now,
      settled: false,
    };
    // A pass that ended without an outcome left `submitting` behind (see #rememberAttempts).
    ctx.resumed = prior?.status === 'submitting';
    await this.#stage('rate-limit', ctx, () => this.#stages.rateLimit.promise(intent, ctx));
    record.stage = 'submit';
    let receipt: Receipt;
    try {
      receipt = await withRetry(
        async (attempt) => {
          ctx.attempt = attempt;
          record.attempts = attempt;
          crashPoint('delivery.before-submit');
          ctx.anchor = this.events.anchor.call(ctx) ?? undefined;
          const result = await this.#stage('submit', ctx, () => this.#stages.submit.promise(intent, ctx));
          ctx.resumed = true;
          return result ?? this.#noReceipt(ctx);
        },
        this.retryPolicy,
        {
          signal: ctx.signal,
          firstAttempt: record.attempts + 1,
          onRetry: (error, _attempt, delayMs) => this.events.retry.call({ ctx, error, delayMs }),
        },
      );
    } catch (error) {
      this.#rememberAttempts(record, error);
      throw error;
    }
    Object.assign(record, { status: 'succeeded', receipt, updatedAt: Date.now() });
    this.#ledger.put(record);
    await this.#ledger.flush();
    crashPoint('delivery.succeeded-recorded');
    return record;
  }

  /**
   * A delivery left for later (the sink unreachable, the retry budget spent, a shutdown) keeps
   * its attempt count and is offered again as resumed: a `submitting` row, written only on this
   * path and not waited for — it is a hint for the next pass, never a guarantee (a crash loses
   * it, and the sink still recognises what an earlier attempt did).
   */
  #rememberAttempts(record: LedgerRecord, thrown: unknown): void {
    if (record.attempts === 0 || toConductorError(thrown).kind === 'permanent') return;
    try {
      this.#ledger.put({ ...record, updatedAt: Date.now() });
    } catch (error) {
      this.#log.warn({ err: error, intentId: record.intentId }, 'could not record the attempts of a deferred intent');
    }
  }

  #noReceipt(ctx: StageContext): Receipt {
    if (this.#stages.submit.taps.length === 0) return { sink: 'none' };
    throw new ConductorError('CND_ERR_SUBMIT_PERMANENT', 'no sink accepted the intent', { stage: 'submit', intentId: ctx.intentId });
  }

  /**
   * The ledger says this intent succeeded before. If the same file is still here because the
   * process stopped between the ledger write and the move, finish that delivery; otherwise it
   * is a duplicate — or, when the content differs under the same correlation_id, a conflict.
   */
  async #alreadyDone(envelope: Envelope, ctx: StageContext, prior: LedgerRecord, hash: string, startedAt: Date): Promise<Outcome> {
    if (prior.contentHash !== hash) {
      const error = new ConductorError(
        'CND_ERR_INTENT_CONFLICT',
        `correlation_id already used by a different intent (first seen as ${prior.file}); use a new correlation_id`,
        { stage: 'validate', intentId: ctx.intentId, details: { securityEvent: 'intent-conflict' } },
      );
      this.events.security.call({
        type: 'intent-conflict',
        file: envelope.file,
        intentId: ctx.intentId,
        message: error.message,
        stage: 'validate',
      });
      return this.#settle(envelope, ctx, undefined, {
        status: 'failed',
        stage: 'validate',
        message: error.message,
        code: error.code,
        startedAt,
        attempts: prior.attempts,
      });
    }
    const resuming = !prior.settled && prior.file === envelope.file;
    return this.#settle(envelope, ctx, prior, {
      status: resuming ? 'succeeded' : 'duplicate',
      stage: 'submit',
      message: resuming ? 'submitted' : `already submitted (first as ${prior.file})`,
      receipt: prior.receipt ?? undefined,
      startedAt,
    });
  }

  async #fail(
    envelope: Envelope,
    ctx: StageContext,
    error: ConductorError,
    prior: LedgerRecord | undefined,
    startedAt: Date,
  ): Promise<Outcome> {
    const securityEvent = error.details?.['securityEvent'];
    if (typeof securityEvent === 'string') {
      this.events.security.call({
        type: securityEvent,
        file: envelope.file,
        intentId: ctx.intentId,
        message: error.message,
        stage: error.stage ?? 'validate',
      });
    }
    return this.#settleWithoutEffect('failed', envelope, ctx, error, prior, startedAt);
  }

  /**
   * A terminal outcome that changed nothing at the sink — failed, or superseded (the sink holds a
   * newer intent's effect for this target): recorded in the ledger, then settled.
   */
  async #settleWithoutEffect(
    status: 'failed' | 'superseded',
    envelope: Envelope,
    ctx: StageContext,
    error: ConductorError,
    prior: LedgerRecord | undefined,
    startedAt: Date,
  ): Promise<Outcome> {
    const now = Date.now();
    const record: LedgerRecord = {
      intentId: ctx.intentId,
      // A superseded intent was validated, so its own hash is known; a failure may precede it.
      contentHash: (status === 'superseded' ? ctx.contentHash : undefined) ?? prior?.contentHash ?? '',
      file: envelope.file,
      target: prior?.target ?? null,
      status,
      stage: status === 'superseded' ? 'submit' : (error.stage ?? 'validate'),
      attempts: prior?.attempts ?? ctx.attempt,
      receipt: null,
      code: error.code,
      message: error.message,
      createdAt: prior?.createdAt ?? now,
      updatedAt: now,
      settled: false,
    };
    this.#ledger.put(record);
    await this.#ledger.flush();
    return this.#settle(envelope, ctx, record, {
      status,
      stage: record.stage,
      message: error.message,
      code: error.code,
      ...(error.plugin === undefined ? {} : { plugin: error.plugin }),
      startedAt,
    });
  }

  /** True unless the source says the item changed since it was read (a producer still writing). */
  async #stillWhole(envelope: Envelope): Promise<boolean> {
    if (envelope.confirmUnchanged === undefined) return true;
    try {
      return await envelope.confirmUnchanged();
    } catch {
      return true;
    }
  }

  /**
   * Not done: the source keeps the item and offers it again later. Counted as left for later, so
   * `once` makes another pass (or reports work left), never exit 0 with the file in handoff/.
   * Without an error the item changed after it was read (a producer still writing): no fault.
   */
  #defer(envelope: Envelope, ctx: StageContext, error?: ConductorError): undefined {
    this.#counts.deferred += 1;
    const reason =
      error === undefined ? 'the file changed after it was read; its new content is read again' : `${error.code}: ${error.message}`;
    envelope.release(reason);
    // The log line for it is the outcome log's (a tap on this event), like every outcome's.
    this.events.deferred.call({
      file: envelope.file,
      intentId: ctx.intentId,
      reason,
      ...(error === undefined
        ? {}
        : {
            code: error.code,
            stage: error.stage ?? 'submit',
            ...(error.plugin === undefined ? {} : { plugin: error.plugin }),
            attempts: ctx.attempt,
            ...(ctx.trace.traceId === undefined ? {} : { traceId: ctx.trace.traceId }),
            durationMs: Math.max(0, Date.now() - envelope.receivedAt),
          }),
    });
    return undefined;
  }

  /** Terminal: audit, hand back to the source, then mark the ledger record settled. */
  async #settle(
    envelope: Envelope,
    ctx: StageContext,
    record: LedgerRecord | undefined,
    result: Pick<Outcome, 'status' | 'stage' | 'message'> & {
      startedAt: Date;
      receipt?: Receipt | undefined;
      code?: string;
      plugin?: string;
      attempts?: number;
    },
  ): Promise<Outcome> {
    const { startedAt, receipt, ...rest } = result;
    const outcome: Outcome = {
      file: envelope.file,
      intentId: ctx.intentId,
      attempts: result.attempts ?? record?.attempts ?? ctx.attempt,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      ...rest,
      ...(receipt === undefined ? {} : { receipt }),
      ...(ctx.trace.traceId === undefined ? {} : { traceId: ctx.trace.traceId }),
    };
    try {
      await this.#stage('audit', ctx, () => this.#stages.audit.promise(outcome, ctx));
    } catch (error) {
      this.#log.error({ err: error, intentId: ctx.intentId }, 'audit failed; the outcome is still recorded in the ledger');
    }
    await envelope.ack(outcome);
    crashPoint('delivery.acked');
    if (record !== undefined && !record.settled && record.intentId === ctx.intentId && record.file === envelope.file) {
      try {
        this.#ledger.markSettled(record);
      } catch (error) {
        // The source has let go already; an unsettled mark only makes a re-delivery resume.
        this.#log.error({ err: error, intentId: ctx.intentId }, 'could not mark the intent settled in the ledger');
      }
    }
    this.#counts[outcome.status] += 1;
    this.events.settled.call(outcome, ctx);
    return outcome;
  }

  async #stage<T>(stage: string, ctx: StageContext, run: () => Promise<T>): Promise<T> {
    const { stageStart, stageEnd } = this.events;
    // Every intent crosses five stages: with no observer on an event, no event is made for it.
    if (listened(stageStart)) stageStart.call({ stage, ctx });
    const timed = listened(stageEnd);
    const started = timed ? performance.now() : 0;
    try {
      const result = await run();
      if (timed) stageEnd.call({ stage, ctx, durationMs: performance.now() - started });
      return result;
    } catch (thrown) {
      const error = toConductorError(thrown, { stage, intentId: ctx.intentId });
      if (timed) stageEnd.call({ stage, ctx, durationMs: performance.now() - started, error });
      throw error;
    }
  }

  /**
   * Two fields cost real work and are mostly never read: the id of the raw bytes (a sha256 of
   * the whole file, the id only until the intent is parsed) and the child logger (its bindings
   * serialised). Both are made when first read. They are accessors of the object itself, not of
   * a class, so that `{ ...ctx }` still copies their values. `identify` gives it the real id once
   * the intent is parsed; the logger gains it as a binding (until then it names only the file).
   */
  #context(envelope: Envelope, knownId?: string): { ctx: StageContext; identify: (intentId: string) => void } {
    const parent = this.#log;
    const { file } = envelope;
    // Only until the real id is known: a context kept by an observer does not keep the bytes.
    let bytes: Uint8Array | undefined = envelope.bytes;
    let intentId = knownId;
    let identified = false;
    let log: Logger | undefined;
    const ctx: StageContext = {
      get intentId(): string {
        return (intentId ??= rawIdOf(file, bytes ?? new Uint8Array()));
      },
      set intentId(value: string) {
        intentId = value;
      },
      file,
      source: envelope.source,
      receivedAt: envelope.receivedAt,
      attempt: 0,
      resumed: false,
      signal: this.#abort.signal,
      ...(envelope.order === undefined ? {} : { order: envelope.order }),
      get log(): Logger {
        return (log ??= parent.child(identified ? { file, intentId } : { file }));
      },
      set log(value: Logger) {
        log = value;
      },
      trace: {},
    };
    const identify = (id: string) => {
      intentId = id;
      identified = true;
      bytes = undefined;
      log?.setBindings({ intentId: id });
    };
    return { ctx, identify };
  }
}
