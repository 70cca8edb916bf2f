// Fault injection (docs/porch.md §Rate limiting, §Simulator endpoints item 12):
// 429 text/plain with Retry-After, 5xx (aggregator 503 or an InternalError 500), added latency,
// dropped connections, and "apply the write, then lose the answer" (504 Timeout or a drop).
// Random faults come from a seeded PRNG, so a run is reproducible; scripted faults make a test
// hit an exact request.

import { seededRandom } from './random.ts';
import type { FaultKind } from './types.ts';

export interface FaultSettings {
  /** Only mutating requests (POST/PUT/PATCH/DELETE, except SelfSubjectAccessReview) are eligible. */
  writesOnly: boolean;
  /** Further restrict eligibility, e.g. to one path. */
  match?: (request: FaultRequest) => boolean;
  /** Fraction of eligible requests answered with a 5xx. */
  error5xxRate: number;
  /** 503 is the aggregator's "service unavailable"; 500 is a transient git error from Porch. */
  error5xxStatus: 500 | 503;
  /** Fraction of eligible requests answered with 429 text/plain. */
  rate429: number;
  /** Retry-After on 429 answers; APF uses 1..32 s. */
  retryAfterSeconds: number;
  /** Added delay before an eligible request is handled. */
  latencyMs: number;
  /** Fraction of eligible requests delayed by latencyMs. */
  latencyRate: number;
  /** Fraction of eligible requests whose connection is destroyed without an answer. */
  dropRate: number;
  /** Fraction of eligible writes that are applied and then answered with a failure. */
  applyThenFailRate: number;
  /** How the answer of an applied write is lost: 504 Timeout Status, or a dropped connection. */
  applyThenFailMode: 'timeout' | 'drop';
}

export interface FaultRequest {
  method: string;
  path: string;
  isWrite: boolean;
}

export type ScriptedFault =
  | { kind: 'drop' }
  | { kind: 'rate-limit'; retryAfterSeconds?: number }
  | { kind: 'server-error'; status?: 500 | 503 }
  | { kind: 'apply-then-fail'; mode?: 'timeout' | 'drop' }
  | { kind: 'latency'; ms: number };

export interface ScriptOptions {
  /** How many matching requests get this fault (default 1). */
  count?: number;
  /** Default true: only writes match. */
  writesOnly?: boolean;
  match?: (request: FaultRequest) => boolean;
}

/** What happens to one request. */
export interface FaultDecision {
  latencyMs: number;
  before?: { kind: 'drop' } | { kind: 'rate-limit'; retryAfterSeconds: number } | { kind: 'server-error'; status: 500 | 503 };
  after?: { kind: 'apply-then-fail'; mode: 'timeout' | 'drop' };
}

export function defaultFaultSettings(): FaultSettings {
  return {
    writesOnly: false,
    error5xxRate: 0,
    error5xxStatus: 503,
    rate429: 0,
    retryAfterSeconds: 1,
    latencyMs: 0,
    latencyRate: 1,
    dropRate: 0,
    applyThenFailRate: 0,
    applyThenFailMode: 'timeout',
  };
}

interface ScriptEntry {
  fault: ScriptedFault;
  remaining: number;
  writesOnly: boolean;
  match?: (request: FaultRequest) => boolean;
}

export interface FaultController {
  /** Merge new settings into the current ones. */
  set(settings: Partial<FaultSettings>): void;
  /** Back to no faults (scripted ones are cleared too). */
  reset(): void;
  /** Queue a fault for the next matching request(s); scripted faults win over random ones. */
  next(fault: ScriptedFault, options?: ScriptOptions): void;
  settings(): FaultSettings;
  /** How many times each fault kind was injected. */
  counts(): Record<FaultKind, number>;
}

export class FaultInjector implements FaultController {
  private current: FaultSettings = defaultFaultSettings();
  private readonly random: () => number;
  private script: ScriptEntry[] = [];
  private readonly injected: Record<FaultKind, number> = {
    drop: 0,
    'rate-limit': 0,
    'server-error': 0,
    'apply-then-fail': 0,
  };

  constructor(seed: number) {
    this.random = seededRandom(seed);
  }

  set(settings: Partial<FaultSettings>): void {
    const next = { ...this.current, ...settings };
    next.retryAfterSeconds = Math.min(32, Math.max(1, Math.round(next.retryAfterSeconds)));
    this.current = next;
  }

  reset(): void {
    this.current = defaultFaultSettings();
    this.script = [];
  }

  next(fault: ScriptedFault, options: ScriptOptions = {}): void {
    this.script.push({
      fault,
      remaining: options.count ?? 1,
      writesOnly: options.writesOnly ?? true,
      ...(options.match === undefined ? {} : { match: options.match }),
    });
  }

  settings(): FaultSettings {
    return { ...this.current };
  }

  counts(): Record<FaultKind, number> {
    return { ...this.injected };
  }

  count(kind: FaultKind): void {
    this.injected[kind] += 1;
  }

  decide(request: FaultRequest): FaultDecision {
    const scripted = this.takeScripted(request);
    if (scripted !== undefined) return scripted;
    const s = this.current;
    if (s.writesOnly && !request.isWrite) return { latencyMs: 0 };
    if (s.match !== undefined && !s.match(request)) return { latencyMs: 0 };
    // Always draw the same number of values, so that changing one rate does not shift the others.
    const [rDrop, r429, r5xx, rLatency, rApply] = [this.random(), this.random(), this.random(), this.random(), this.random()];
    const decision: FaultDecision = { latencyMs: s.latencyMs > 0 && rLatency < s.latencyRate ? s.latencyMs : 0 };
    if (rDrop < s.dropRate) decision.before = { kind: 'drop' };
    else if (r429 < s.rate429) decision.before = { kind: 'rate-limit', retryAfterSeconds: s.retryAfterSeconds };
    else if (r5xx < s.error5xxRate) decision.before = { kind: 'server-error', status: s.error5xxStatus };
    else if (request.isWrite && rApply < s.applyThenFailRate) decision.after = { kind: 'apply-then-fail', mode: s.applyThenFailMode };
    return decision;
  }

  private takeScripted(request: FaultRequest): FaultDecision | undefined {
    const entry = this.script.find(
      (e) => e.remaining > 0 && (!e.writesOnly || request.isWrite) && (e.match === undefined || e.match(request)),
    );
    if (entry === undefined) return undefined;
    entry.remaining -= 1;
    this.script = this.script.filter((e) => e.remaining > 0);
    const fault = entry.fault;
    switch (fault.kind) {
      case 'drop':
        return { latencyMs: 0, before: { kind: 'drop' } };
      case 'rate-limit':
        return {
          latencyMs: 0,
          before: { kind: 'rate-limit', retryAfterSeconds: fault.retryAfterSeconds ?? this.current.retryAfterSeconds },
        };
      case 'server-error':
        return { latencyMs: 0, before: { kind: 'server-error', status: fault.status ?? this.current.error5xxStatus } };
      case 'apply-then-fail':
        return { latencyMs: 0, after: { kind: 'apply-then-fail', mode: fault.mode ?? this.current.applyThenFailMode } };
      case 'latency':
        return { latencyMs: fault.ms };
    }
  }
}
