// The commit queue: intents wait here for their turn, and a turn takes every intent waiting —
// one commit per intent, one after the other on the branch — or, with grouped commits, one group
// of up to `maxIntentsPerCommit` in one commit, and makes them durable together with one
// fast-import checkpoint (a group commit, like the ledger's: the cost of durability is paid once
// per turn, never less durable per intent). Only after the checkpoint is any of them
// acknowledged. Per intent, in the producer's order: one already in history (or earlier in the
// turn) gets that commit back, or with other content a conflict; one older than what is applied
// for its target is superseded; a path the sink must not write is refused; the rest are committed.
import { ConductorError, isConductorError, type Receipt } from '../../core/index.ts';
import { crashPoint } from '../../core/index.ts';
import type { KnownEffects, Effect, Newest } from './known-effects.ts';
import { RefusedPath, type FileChange, type PackageSnapshot, type Repo, type Signature } from './repo.ts';
import { commitMessage, targetKey } from './trailers.ts';

/** At most this many intents settle at one checkpoint (the queue holds at most `concurrency` anyway). */
const MAX_INTENTS_PER_TURN = 1_000;

/**
 * How many intents a turn takes. One commit per intent: every intent waiting (up to the bound),
 * so the commits share one checkpoint. Grouped commits: one group, so that while it is written
 * the intents behind it go through the earlier stages and form the next group (with
 * `concurrency` about twice `maxIntentsPerCommit`); a turn taking everything in flight left the
 * pipeline empty during every checkpoint, and the next group formed only after it.
 */
export function turnSize(maxIntentsPerCommit: number): number {
  return maxIntentsPerCommit > 1 ? Math.min(maxIntentsPerCommit, MAX_INTENTS_PER_TURN) : MAX_INTENTS_PER_TURN;
}

/** An intent waiting for its turn to be committed. */
export interface Pending extends Effect {
  resolve(receipt: Receipt): void;
  reject(error: unknown): void;
}

/** A package as the commits being built see it: as last committed (or read), and its files now. */
export interface PackageWork {
  path: string[];
  snapshot: PackageSnapshot | undefined;
  files: Record<string, string>;
}

export interface QueueParts {
  plugin: string;
  repo: Repo;
  known: KnownEffects;
  author: () => Signature;
  maxIntentsPerCommit: number;
  fullSync: boolean;
  /** Applies an intent to its package (as the turn left it, else as HEAD holds it); may throw RefusedPath. */
  apply(head: string | undefined, p: Effect, packages: ReadonlyMap<string, PackageWork>): Promise<PackageWork>;
  /** Writes the committed files into the working tree (a failure there is logged, not thrown). */
  writeWorkingTree(changes: readonly FileChange[]): Promise<void>;
  /** Runs `work` holding the repository's writer lock. */
  withLock<T>(work: () => Promise<T>): Promise<T>;
}

/** One commit of a turn: its intents (with their place in the turn) and the files it changes. */
interface PlannedCommit {
  applied: { p: Pending; i: number }[];
  changes: FileChange[];
}

/** The commit being planned, and the packages it changes (by path). */
interface OpenCommit {
  commit: PlannedCommit;
  works: Map<string, PackageWork>;
}

type Outcome = Receipt | ConductorError | undefined;

/** Only the files whose content changed since the package was last committed (a new package: all). */
export function changedFiles(work: PackageWork): FileChange[] {
  return Object.entries(work.files)
    .filter(([name, content]) => work.snapshot?.files[name] !== content)
    .map(([name, content]) => ({
      path: [...work.path, ...name.split('/')],
      content,
      mode: work.snapshot?.modes[name] ?? '100644',
    }));
}

/** The package as a commit of `work` leaves it. */
function committedSnapshot(work: PackageWork): PackageSnapshot {
  const modes: PackageSnapshot['modes'] = {};
  for (const name of Object.keys(work.files)) modes[name] = work.snapshot?.modes[name] ?? '100644';
  return { files: work.files, modes, occupied: work.snapshot?.occupied ?? new Set() };
}

export class CommitQueue {
  readonly #parts: QueueParts;
  readonly #pending: Pending[] = [];
  #queue: Promise<unknown> = Promise.resolve();
  /** A turn is queued and has not started yet: it will take whatever is pending when it starts. */
  #turnWaiting = false;
  #queued = 0;

  constructor(parts: QueueParts) {
    this.#parts = parts;
  }

  /** Runs `work` after every turn queued before it (commits build on each other's HEAD). */
  serial<T>(work: () => Promise<T>): Promise<T> {
    this.#queued += 1;
    const started = () => {
      this.#queued -= 1;
      return work();
    };
    const run = this.#queue.then(started, started);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Turns (and plans) queued that have not started yet. */
  get queued(): number {
    return this.#queued;
  }

  /** Resolves once every turn queued so far has run. */
  async drained(): Promise<void> {
    await this.#queue;
  }

  submit(p: Pending): void {
    this.#pending.push(p);
    this.#queueTurn();
  }

  /**
   * Queues a turn unless one is waiting to start (it will take this submission too). One turn
   * per submission would queue turns faster than they run — each takes every intent pending when
   * it starts, so the ones behind it find nothing — and keep about one idle turn per intent
   * queued until the backlog is over: memory growing with the number of intents.
   */
  #queueTurn(): void {
    if (this.#turnWaiting) return;
    this.#turnWaiting = true;
    void this.serial(() => {
      this.#turnWaiting = false;
      return this.#turn();
    });
  }

  async #turn(): Promise<void> {
    const batch = this.#pending.splice(0, turnSize(this.#parts.maxIntentsPerCommit));
    if (batch.length === 0) return;
    // More than one turn takes: the rest in a turn of its own, after this one.
    if (this.#pending.length > 0) this.#queueTurn();
    try {
      const results = await this.#parts.withLock(() => this.#commit(batch));
      batch.forEach((p, i) => {
        const result = results[i]!;
        if (result instanceof ConductorError) p.reject(result);
        else p.resolve(result);
      });
    } catch (error) {
      await this.#parts.repo.abandon().catch(() => undefined);
      for (const p of batch) {
        p.reject(
          new ConductorError('CND_ERR_SUBMIT_TRANSIENT', `git commit failed: ${(error as Error).message}`, {
            plugin: this.#parts.plugin,
            intentId: p.intentId,
            cause: error,
          }),
        );
      }
    }
  }

  /** Plans the turn's commits, streams them, makes them durable, then writes the working tree. */
  async #commit(batch: readonly Pending[]): Promise<(Receipt | ConductorError)[]> {
    const { repo, known } = this.#parts;
    await repo.consolidate();
    const head = await repo.head();
    await known.catchUp(head);
    const results: Outcome[] = batch.map((p) => known.earlierEffect(p));
    const { commits, packages, repeats } = await this.#plan(batch, head, results);
    if (commits.length > 0) {
      const messages = commits.map((c) => commitMessage(c.applied.map(({ p }) => p)));
      let parent: string | number | undefined = head;
      const marks = commits.map((c, n) => (parent = repo.stream(parent, c.changes, this.#parts.author(), messages[n]!)));
      const oids = await repo.checkpoint(marks, this.#parts.fullSync);
      known.learnOwn(oids.map((oid, n) => ({ oid, message: messages[n]! })));
      repo.advance(
        head,
        oids.at(-1)!,
        [...packages.values()].map((w) => ({ path: w.path, snapshot: w.snapshot! })),
      );
      commits.forEach((c, n) => c.applied.forEach(({ i }) => (results[i] = { sink: this.#parts.plugin, ref: oids[n]! })));
      for (const { i, commit } of repeats) results[i] = { sink: this.#parts.plugin, ref: oids[commits.indexOf(commit)]!, reused: true };
      await this.#parts.writeWorkingTree(lastContentPerPath(commits.flatMap((c) => c.changes)));
      crashPoint('git.worktree-written');
    }
    return results as (Receipt | ConductorError)[];
  }

  /** Decides, intent by intent (oldest first), what the turn commits, and in which commit. */
  async #plan(batch: readonly Pending[], head: string | undefined, results: Outcome[]) {
    // Oldest first (stable; an intent without an order keeps its place before the ordered ones).
    const orderOf = (p: Effect) => p.order ?? Number.NEGATIVE_INFINITY;
    const candidates = batch.map((p, i) => ({ p, i })).filter(({ i }) => results[i] === undefined);
    candidates.sort((a, b) => (orderOf(a.p) < orderOf(b.p) ? -1 : orderOf(a.p) > orderOf(b.p) ? 1 : 0));
    const building = new Map<string, Newest>();
    const inTurn = new Map<string, { contentHash: string | undefined; commit: PlannedCommit }>();
    const packages = new Map<string, PackageWork>();
    const commits: PlannedCommit[] = [];
    const repeats: { i: number; commit: PlannedCommit }[] = [];
    let open: OpenCommit | undefined;
    for (const { p, i } of candidates) {
      const earlier = inTurn.get(p.intentId);
      if (earlier !== undefined) {
        if (earlier.contentHash === undefined || p.contentHash === undefined || earlier.contentHash === p.contentHash)
          repeats.push({ i, commit: earlier.commit });
        else results[i] = this.#parts.known.refusal(p, 'CND_ERR_INTENT_CONFLICT', `intent ${p.intentId} came twice with other content`);
        continue;
      }
      results[i] = this.#parts.known.newerThan(p, building);
      if (results[i] !== undefined) continue;
      const work = await this.#applied(head, p, packages, results, i);
      if (work === undefined) continue;
      packages.set(work.path.join('/'), work);
      if (p.order !== undefined) building.set(targetKey(p.intent), { order: p.order, intentId: p.intentId, commit: undefined });
      open ??= { commit: { applied: [], changes: [] }, works: new Map() };
      open.commit.applied.push({ p, i });
      // A later intent for the same package replaces its work: the commit holds the package's last state.
      open.works.set(work.path.join('/'), work);
      inTurn.set(p.intentId, { contentHash: p.contentHash, commit: open.commit });
      if (open.commit.applied.length >= this.#parts.maxIntentsPerCommit) open = closeCommit(open, commits);
    }
    if (open !== undefined) closeCommit(open, commits);
    return { commits, packages, repeats };
  }

  /** The intent applied to its package; a refusal for good fails this intent alone (undefined back). */
  async #applied(head: string | undefined, p: Effect, packages: ReadonlyMap<string, PackageWork>, results: Outcome[], i: number) {
    try {
      return await this.#parts.apply(head, p, packages);
    } catch (error) {
      if (error instanceof RefusedPath)
        results[i] = this.#parts.known.refusal(p, 'CND_ERR_SUBMIT_PERMANENT', `not written: ${error.message}`);
      else if (isConductorError(error) && !error.retryable) results[i] = error;
      else throw error;
      return undefined;
    }
  }
}

/** Fixes a planned commit's changes and moves its packages' baseline to what it commits. */
function closeCommit(open: OpenCommit, commits: PlannedCommit[]): undefined {
  for (const work of open.works.values()) {
    open.commit.changes.push(...changedFiles(work));
    work.snapshot = committedSnapshot(work);
  }
  commits.push(open.commit);
  return undefined;
}

/** The working tree needs each file once, with the content of the last commit that changed it. */
function lastContentPerPath(changes: readonly FileChange[]): FileChange[] {
  const byPath = new Map<string, FileChange>();
  for (const change of changes) byPath.set(change.path.join('/'), change);
  return [...byPath.values()];
}
