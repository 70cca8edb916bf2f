// Crash points (test-only): the durable steps of the delivery path, each named, so that a test
// can kill the process right there and check what a restart makes of the state left behind
// (crash-point exploration, after ALICE, OSDI '14). Production never sets the variable, and
// then a crash point is one comparison.
//
//   CONDUCTOR_CRASH_AT=<point>[:<nth>]   the nth time (1 by default) the process reaches
//                                        <point>, it kills itself with SIGKILL on the spot
//
// SIGKILL, not an exception or exit(): no finally block, no flush, no lock release runs — the
// same as a kill -9 or an OOM kill. The variable is read once, when this module loads. The
// harness (test/crash/) runs the real CLI with each point in turn, then restarts it without.
import { writeSync } from 'node:fs';

/**
 * Every point, in the order an intent meets them. The harness sweeps this list; a point added
 * in the code must be added here (the name is typed), so no step escapes the sweep.
 */
export const CRASH_POINTS = [
  // Ledger (SQLite, WAL): a group commit about to be committed — the batch is lost.
  'ledger.before-commit',
  // Host: the sink is about to be called; the ledger holds nothing of this attempt.
  'delivery.before-submit',
  // Host: the ledger says `succeeded`, nothing handed back to the source yet.
  'delivery.succeeded-recorded',
  // Host: the source has the outcome (status written, file moved); the ledger not yet `settled`.
  'delivery.acked',
  // Git sink: a commit streamed to git fast-import (objects in its open pack), no checkpoint asked for.
  'git.commit-streamed',
  // Git sink: the checkpoint asked for (fast-import closes the pack and moves the branch), its answer not read.
  'git.checkpoint-requested',
  // Git sink: the checkpoint answered (pack closed, branch moved, fsynced when asked); the working tree not written.
  'git.ref-updated',
  // Git sink: the package directory made in the working tree, its files not yet written.
  'git.worktree-dir-made',
  // Git sink: the package files written to the working tree.
  'git.worktree-written',
  // Porch sink: the Draft was created (server applied the create).
  'porch.created',
  // Porch sink: the Draft's resources hold the intent.
  'porch.resources-written',
  // Porch sink: the revision was proposed.
  'porch.proposed',
  // Porch sink: the revision was approved (published).
  'porch.approved',
  // Data directory: a file's new content in its temporary file (status/, failed/*.error.json), not renamed.
  'file.temp-written',
  // Source: the status file written, the intent file still in handoff/.
  'source.status-written',
  // Data directory: about to move the file out of handoff/ (after its error record, if failed).
  'move-out.before-link',
  // Data directory: the file linked into processed/ or failed/, not yet unlinked from handoff/.
  'move-out.linked',
] as const;

export type CrashPointName = (typeof CRASH_POINTS)[number];

/** The environment variable the harness sets. Test-only: never set it in a deployment. */
export const CRASH_AT_VARIABLE = 'CONDUCTOR_CRASH_AT';

interface CrashSpec {
  point: string;
  nth: number;
}

/** `name[:nth]` → the point and the hit to crash at; undefined when unset or malformed. */
export function parseCrashSpec(value: string | undefined): CrashSpec | undefined {
  if (value === undefined || value === '') return undefined;
  const match = /^([a-z][a-z0-9.-]*)(?::([1-9][0-9]*))?$/.exec(value.trim());
  if (match === null) return undefined;
  return { point: match[1]!, nth: match[2] === undefined ? 1 : Number(match[2]) };
}

const spec = parseCrashSpec(process.env[CRASH_AT_VARIABLE]);
let hits = 0;

/** A named durable step: kills the process here when the harness asked for this point (and hit). */
export function crashPoint(name: CrashPointName): void {
  if (spec === undefined || spec.point !== name) return;
  hits += 1;
  if (hits < spec.nth) return;
  // Synchronous, so the harness can tell this crash from any other death of the process.
  writeSync(2, `conductor: crash point ${name}:${hits} reached; killing the process (${CRASH_AT_VARIABLE})\n`);
  process.kill(process.pid, 'SIGKILL');
}
