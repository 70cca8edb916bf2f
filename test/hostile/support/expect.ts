// The documented outcome of one handoff/ entry, and the checks every hostile case ends with:
// the entry is where the README's input rules say, every refusal was counted as a security
// event exactly once (on the hook and in the audit log), nothing else was, nothing outside
// handoff/ was read, no move failed, and each entry reached its outcome within the time bound.
import assert from 'node:assert/strict';
import type { Harness } from './harness.ts';

/** How long an entry may take from being seen to its documented outcome (issue 4: two seconds). */
export const BOUND_MS = 2_000;

export type Expect =
  /** Submitted: a commit with its intent id, the original in processed/, status succeeded. */
  | { file: string; outcome: 'processed'; check?: (h: Harness, file: string) => void }
  /** Recognised as already submitted: processed/, status duplicate, no new commit. */
  | { file: string; outcome: 'duplicate' }
  /** Refused: failed/ beside <stem>.error.json with this stage and code; one security event. */
  | { file: string; outcome: 'failed'; stage: string; code: string; event?: string | RegExp }
  /** The name does not match the pattern: left alone, never opened, no record anywhere. */
  | { file: string; outcome: 'untouched' }
  /** Vanished before it was read (deleted by its producer): no outcome, no false failure. */
  | { file: string; outcome: 'gone' };

export const show = (file: string): string =>
  JSON.stringify(file.length > 80 ? `${file.slice(0, 40)}…${file.slice(-20)} (${Buffer.byteLength(file)} bytes)` : file);

/** Checks the entries of one case (in a run that may hold other cases' entries too). */
export function verifyEntries(h: Harness, expectations: readonly Expect[]): void {
  const processed = h.processed();
  const failed = h.failed();
  const handoff = h.inHandoff();
  const auditSecurity = h.audit().filter((line) => line.event === 'security');
  const committedIds = new Set(h.commits().map((c) => c.intentId));

  for (const e of expectations) {
    const label = `${show(e.file)} (${e.outcome})`;
    const events = h.security.filter((event) => event.file === e.file);
    const auditEvents = auditSecurity.filter((line) => line.file === e.file);
    const errors = h.errors().filter((line) => line.file === e.file);
    assert.deepEqual(
      errors.map((line) => `${line.msg}: ${(line['err'] as { message?: string } | undefined)?.message ?? ''}`),
      [],
      `${label}: no error was logged for it (a failed move leaves the entry in handoff/ for good)`,
    );
    switch (e.outcome) {
      case 'processed':
      case 'duplicate': {
        assert.ok(processed.includes(e.file), `${label}: in processed/ (still in handoff/: ${handoff.includes(e.file)})`);
        assert.ok(!handoff.includes(e.file), `${label}: gone from handoff/`);
        const status = h.statusOf(e.file);
        assert.ok(status, `${label}: has a status file`);
        assert.equal(status.status, e.outcome === 'processed' ? 'succeeded' : 'duplicate', `${label}: status (${status.message})`);
        assert.ok(committedIds.has(status.intentId), `${label}: its intent id has a commit`);
        assert.deepEqual(
          events.map((x) => x.type),
          [],
          `${label}: no security event`,
        );
        if (e.outcome === 'processed') e.check?.(h, e.file);
        break;
      }
      case 'failed': {
        const outcome = h.settled.find((o) => o.file === e.file);
        assert.ok(
          failed.includes(e.file),
          `${label}: in failed/ (still in handoff/: ${handoff.includes(e.file)}; outcome: ${outcome ? `${outcome.status} ${outcome.code ?? ''} ${outcome.message}` : 'none'})`,
        );
        assert.ok(!handoff.includes(e.file), `${label}: gone from handoff/`);
        const error = h.errorOf(e.file);
        assert.ok(error, `${label}: has <stem>.error.json`);
        assert.equal(error.stage, e.stage, `${label}: stage (${error.code}: ${error.message})`);
        assert.equal(error.code, e.code, `${label}: code (${error.message})`);
        assert.equal(h.statusOf(e.file)?.status, 'failed', `${label}: status failed`);
        // (A conflict shares its intent id with the intent that was submitted under it.)
        if (e.code !== 'CND_ERR_INTENT_CONFLICT') assert.ok(!committedIds.has(error.intentId), `${label}: nothing committed for it`);
        assert.equal(
          events.length,
          1,
          `${label}: counted as exactly one security event (${error.code}: ${error.message}); got ${JSON.stringify(events.map((x) => x.type))}`,
        );
        assert.equal(auditEvents.length, 1, `${label}: one security line in the audit log`);
        if (typeof e.event === 'string') assert.equal(events[0]!.type, e.event, `${label}: security event type`);
        else if (e.event !== undefined) assert.match(events[0]!.type, e.event, `${label}: security event type`);
        assert.equal(auditEvents[0]!.type, events[0]!.type);
        break;
      }
      case 'untouched': {
        assert.ok(handoff.includes(e.file), `${label}: still in handoff/`);
        assert.ok(!processed.includes(e.file) && !failed.includes(e.file), `${label}: not moved`);
        assert.notEqual(h.statusOf(e.file)?.file, e.file, `${label}: no status file`);
        assert.ok(!h.seenAt.has(e.file), `${label}: never offered to the pipeline`);
        assert.deepEqual(events, [], `${label}: no security event`);
        break;
      }
      case 'gone': {
        assert.ok(!handoff.includes(e.file) && !processed.includes(e.file) && !failed.includes(e.file), `${label}: nowhere`);
        assert.notEqual(h.statusOf(e.file)?.file, e.file, `${label}: no status file`);
        assert.deepEqual(events, [], `${label}: no security event`);
        assert.deepEqual(
          h.settled.filter((o) => o.file === e.file),
          [],
          `${label}: no outcome recorded`,
        );
        break;
      }
    }
    const seen = h.seenAt.get(e.file);
    const done = h.settledAt.get(e.file);
    if (seen !== undefined && done !== undefined)
      assert.ok(done - seen < BOUND_MS, `${label}: reached its outcome ${Math.round(done - seen)} ms after it was seen`);
  }
}

/**
 * Checks what belongs to no single case: no security event or outcome for an entry nobody
 * expected, no error logged without a file, nothing outside handoff/ read or committed, and
 * (for a run of one case) the whole run within the bound.
 */
export function verifyRun(h: Harness, expectations: readonly Expect[], elapsedMs?: number): void {
  const refused = new Set(expectations.filter((e) => e.outcome === 'failed').map((e) => e.file));
  const known = new Set(expectations.map((e) => e.file));
  assert.deepEqual(
    h.security.filter((event) => !refused.has(event.file)).map((event) => `${show(event.file)}: ${event.type}`),
    [],
    'no security event beyond the expected refusals',
  );
  assert.deepEqual(
    h.settled.filter((outcome) => !known.has(outcome.file)).map((outcome) => `${show(outcome.file)}: ${outcome.status} ${outcome.message}`),
    [],
    'no outcome for an entry no case expected',
  );
  assert.deepEqual(
    h
      .errors()
      .filter((line) => line.file === undefined || !known.has(line.file))
      .map((line) => line.msg),
    [],
    'no error logged outside the expected entries',
  );
  assert.deepEqual(
    [...h.seenAt.keys()].filter((file) => !h.settledAt.has(file) && !h.deferred.some((d) => d.file === file)).map(show),
    [],
    'every entry the pipeline received reached an outcome (or was deferred) before the Conductor stopped',
  );
  assert.deepEqual(h.outside.problems(), [], 'nothing outside handoff/ was read');
  assert.deepEqual(
    h
      .commits()
      .filter((c) => /canary-leak|inner-leak/.test(c.subject))
      .map((c) => c.subject),
    [],
    'nothing outside handoff/ was committed',
  );
  if (elapsedMs !== undefined) assert.ok(elapsedMs < BOUND_MS, `the run took ${Math.round(elapsedMs)} ms`);
}

export function verify(h: Harness, expectations: readonly Expect[], elapsedMs?: number): void {
  verifyEntries(h, expectations);
  verifyRun(h, expectations, elapsedMs);
}
