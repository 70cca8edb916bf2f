// The hook bus (docs/architecture.md §Hook bus): one tapable hook per stage, each of the kind its purpose needs,
// plus event hooks that observers (metrics, tracing, audit) tap without touching the data path.
import { AsyncParallelHook, AsyncSeriesBailHook, AsyncSeriesHook, AsyncSeriesWaterfallHook, SyncBailHook, SyncHook } from 'tapable';
import type { Envelope, Intent, Outcome, Receipt } from '../intent/types.ts';
import type { ConductorError } from '../errors.ts';
import type { Logger } from '../log.ts';

/** Per-intent facts every stage tap receives. Taps may read it; only the core writes it. */
export interface StageContext {
  /** Final once the intent is parsed (before that, an id of the raw bytes). */
  intentId: string;
  readonly file: string;
  readonly source: string;
  readonly receivedAt: number;
  /** 1 for the first submission attempt, counting up across retries and restarts. */
  attempt: number;
  /** True when an earlier, interrupted attempt may already have reached the sink. */
  resumed: boolean;
  /** Aborted when the pipeline stops; long waits should honour it. */
  readonly signal: AbortSignal;
  log: Logger;
  /**
   * The hash of the validated, sanitized intent (set before rate-limit and submit): with the
   * intent id it is the effect's identity, recorded by sinks so that the same id with other
   * content is found out at the sink even when the ledger has forgotten it.
   */
  contentHash?: string;
  /** The envelope's `order` (see Envelope.order): sinks record it to let the newest intent win. */
  readonly order?: number;
  /** Trace propagation, filled by a tracing plugin: the W3C traceparent for outgoing calls. */
  trace: { traceId?: string; traceparent?: string };
  /**
   * An anchor of the audit trail, set by the core just before each submit attempt from the
   * `anchor` event hook (undefined when no plugin taps it). Sinks record it with the effect
   * (the git sink as a `Conductor-Audit-Anchor` trailer, the Porch sink as an annotation), so
   * that the audit log can later be checked against copies an attacker of the data volume
   * cannot reach. Opaque to sinks: written as given, on one line.
   */
  anchor?: string;
}

/** The commit trailer a git sink records `StageContext.anchor` in. */
export const AUDIT_ANCHOR_TRAILER = 'Conductor-Audit-Anchor';
/** The annotation a Porch sink records `StageContext.anchor` in, on the PackageRevision. */
export const AUDIT_ANCHOR_ANNOTATION = 'conductor.nephio.org/audit-anchor';
/** What an anchor looks like (`<log name>@<seq>:<hash>`): a sink writes only a value that matches. */
export const AUDIT_ANCHOR_PATTERN = /^[A-Za-z0-9._-]+@\d+:[0-9a-f]{64}$/;

/** A validate tap returns this (or throws) to refuse an intent. */
export interface Rejection {
  message: string;
  code?: 'CND_ERR_INTENT_INVALID' | 'CND_ERR_INTENT_REJECTED';
  /** Type label for the security-events metric and audit record, when the refusal is one. */
  securityEvent?: string;
  /** The plugin that refused (filled in by the core). */
  plugin?: string;
}

export interface StageEvent {
  stage: string;
  ctx: StageContext;
}
export interface StageEndEvent extends StageEvent {
  durationMs: number;
  error?: ConductorError;
}
export interface TapEndEvent extends StageEndEvent {
  plugin: string;
}
export interface SecurityEvent {
  type: string;
  file: string;
  intentId: string;
  message: string;
  stage: string;
}
/** A retention plugin removed old entries of one area of the data directory. */
export interface RetentionEvent {
  area: 'processed' | 'status' | 'failed' | 'ledger';
  removed: number;
  /** ISO time: everything removed was older than this. */
  olderThan: string;
  plugin: string;
}
/** An intent released back to its source, not finished (the sink could not be reached, say). */
export interface DeferredEvent {
  file: string;
  intentId: string;
  /** `CODE: message`. */
  reason: string;
  code?: string;
  stage?: string;
  plugin?: string;
  attempts?: number;
  traceId?: string;
  durationMs?: number;
}
export interface RetryEvent {
  ctx: StageContext;
  error: ConductorError;
  delayMs: number;
}

/** A claim on a work item, held while it is processed (see `StageHooks.claim`). */
export interface Claim {
  /** Gives the claim back once the item settled or was released. */
  release(): Promise<void>;
}

export interface StageHooks {
  /**
   * Coordination between replicas that share one handoff directory (not a pipeline stage).
   * Asked before a source reads an item: a tap returns a Claim (granted), `null` (another
   * replica holds it: skip it for now) or undefined (no opinion). With no taps every claim is
   * granted, as for a single process. Tapped by plugins of kind `service` (see HOOKS_OF_KIND).
   */
  claim: AsyncSeriesBailHook<[string], Claim | null | undefined>;
  validate: AsyncSeriesBailHook<[Intent, StageContext], Rejection | undefined>;
  sanitize: AsyncSeriesWaterfallHook<[Intent, StageContext]>;
  rateLimit: AsyncSeriesHook<[Intent, StageContext]>;
  submit: AsyncSeriesBailHook<[Intent, StageContext], Receipt | undefined>;
  audit: AsyncParallelHook<[Outcome, StageContext | undefined]>;
}

export interface EventHooks {
  /** An envelope entered the pipeline; the context's intent id is provisional until parsed. */
  received: SyncHook<[Envelope, StageContext]>;
  stageStart: SyncHook<[StageEvent]>;
  stageEnd: SyncHook<[StageEndEvent]>;
  tapEnd: SyncHook<[TapEndEvent]>;
  retry: SyncHook<[RetryEvent]>;
  security: SyncHook<[SecurityEvent]>;
  settled: SyncHook<[Outcome, StageContext | undefined]>;
  /** The intent was not finished (released back to its source for later). */
  deferred: SyncHook<[DeferredEvent]>;
  retention: SyncHook<[RetentionEvent]>;
  /**
   * Asked just before each submit attempt: a tap returns an anchor of the audit trail (for the
   * audit-log plugin, where its hash chain stands: `<log name>@<seq>:<hash>`), which the core
   * puts in `StageContext.anchor` for the sink to record. The first tap that answers wins.
   */
  anchor: SyncBailHook<[StageContext], string | undefined>;
}

export function createStageHooks(): StageHooks {
  return {
    claim: new AsyncSeriesBailHook(['key'], 'claim'),
    validate: new AsyncSeriesBailHook(['intent', 'ctx'], 'validate'),
    sanitize: new AsyncSeriesWaterfallHook(['intent', 'ctx'], 'sanitize'),
    rateLimit: new AsyncSeriesHook(['intent', 'ctx'], 'rate-limit'),
    submit: new AsyncSeriesBailHook(['intent', 'ctx'], 'submit'),
    audit: new AsyncParallelHook(['outcome', 'ctx'], 'audit'),
  };
}

export function createEventHooks(): EventHooks {
  return {
    received: new SyncHook(['envelope', 'ctx'], 'received'),
    stageStart: new SyncHook(['event'], 'stageStart'),
    stageEnd: new SyncHook(['event'], 'stageEnd'),
    tapEnd: new SyncHook(['event'], 'tapEnd'),
    retry: new SyncHook(['event'], 'retry'),
    security: new SyncHook(['event'], 'security'),
    settled: new SyncHook(['outcome', 'ctx'], 'settled'),
    deferred: new SyncHook(['event'], 'deferred'),
    retention: new SyncHook(['event'], 'retention'),
    anchor: new SyncBailHook(['ctx'], 'anchor'),
  };
}

/** Hook name in StageHooks → the stage name used in logs, metrics, status files. */
export const STAGE_OF_HOOK: Record<keyof StageHooks, string> = {
  claim: 'claim',
  validate: 'validate',
  sanitize: 'sanitize',
  rateLimit: 'rate-limit',
  submit: 'submit',
  audit: 'audit',
};
