// The embedded default sink (DESIGN §4): each intent becomes a kpt package under
// <namespace>/<package>/ (the package name is `constraints.kpt_package_name`, else the target)
// in a local git repository (`<dataDir>/out`), one commit per intent carrying its trailers
// (trailers.ts). Argo CD or Flux can sync that repository. An existing package changes in the
// one file that holds the Deployment; every other entry keeps its blob and mode.
// With `maxIntentsPerCommit` above 1, the intents waiting while a commit is written go into the
// next commit together, each keeping its own trailer (no waiting is added to form a group).
//
// Commits are built directly as git objects from the previous tree (repo.ts), so a commit
// costs a few small file writes instead of an index scan and several git processes.
// Idempotent: the trailers in history are read at start, and again from whatever other writers
// committed since, so re-delivering a committed intent (after a crash between commit and ledger
// write, or by another replica) is a no-op returning the commit — when its content is the same;
// the same id with other content is a conflict. History also says, per target, the producer's
// order of the newest intent applied: an older one arriving later is settled as superseded.
// Writers in several processes take turns through a lock file in .git; at start, holding it,
// the sink removes what a killed writer left and makes the working tree equal to HEAD.
import { promises as fs, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import lockfile from 'proper-lockfile';
import {
  ConductorError,
  applyIntentToPackage,
  definePlugin,
  isConductorError,
  packageNameOf,
  type Intent,
  type PlanRequest,
  type PlanResult,
  type Receipt,
} from '../../core/index.ts';
import { Blueprint } from './blueprint.ts';
import { durability } from './durable.ts';
import { git, type GitIdentity } from './git.ts';
import { RefusedPath, Repo, type FileChange, type PackageSnapshot } from './repo.ts';
import { readHistory } from './history.ts';
import { commitMessage, targetKey, trailerEffects, type RecordedEffect } from './trailers.ts';
import { checkSegment, checkWritable, removeStaging, writeWorkingFile } from './worktree.ts';
import { DOCS, OPTIONS_SCHEMA } from './metadata.ts';
import { crashPoint } from '../../core/index.ts';

export { EFFECT_TRAILER, TRAILER, commitMessage, trailerEffects, trailerIds, type RecordedEffect } from './trailers.ts';

/** An intent's effect as the commit (or a plan of it) needs it. */
interface Effect {
  intent: Intent;
  intentId: string;
  file: string;
  contentHash: string | undefined;
  order: number | undefined;
  /** The audit chain's head before this effect (see the audit-log plugin), recorded as a trailer. */
  anchor: string | undefined;
}

/** An intent waiting for its turn to be committed. */
interface Pending extends Effect {
  resolve(receipt: Receipt): void;
  reject(error: unknown): void;
}

/** What history says about an intent id: the commit holding it and the content it had. */
interface KnownEffect {
  commit: string;
  contentHash: string | undefined;
}

/** The newest intent applied for a target, by the producer's order. */
interface Newest {
  order: number;
  intentId: string;
  /** Undefined while it is only part of the commit being built. */
  commit: string | undefined;
}

/** A package as the commit being built sees it: as read from HEAD, and its files so far. */
interface PackageWork {
  path: string[];
  snapshot: PackageSnapshot | undefined;
  files: Record<string, string>;
}

export default definePlugin({
  name: 'git-sink',
  kind: 'submit',
  description:
    'Commits each intent as a kpt package to a local git repository (the embedded default sink). ' +
    'Durability: objects, the branch and working-tree files are written to a temporary name and renamed, so a process crash ' +
    'leaves every file old or new, and start repairs the working tree from HEAD. With sync "full" (or ledger.sync "full" ' +
    'when sync is unset) the objects, the branch and their directories are also fsynced before the receipt, so an ' +
    'acknowledged commit survives a power loss; with "normal" a power loss may lose the last commits (they are redone ' +
    'from handoff/ and the ledger when those survived) and the working tree is never fsynced.',
  optionsSchema: OPTIONS_SCHEMA,
  docs: DOCS,
  create(context, options) {
    const dir = resolve(context.dataDir, options.dir ?? 'out');
    const identity: GitIdentity = { name: options.authorName, email: options.authorEmail };
    const repo = new Repo(dir, options.branch);
    const blueprint = new Blueprint({ id: context.id, configSource: context.config.source }, options.blueprint);
    const fullSync = (options.sync ?? context.config.ledger.sync) === 'full';
    const committed = new Map<string, KnownEffect>();
    const newest = new Map<string, Newest>();
    let lastHead: string | undefined;
    let queue: Promise<unknown> = Promise.resolve();
    const pending: Pending[] = [];
    let ready = false;

    /** Commits run one at a time in this process: they build on each other's HEAD. */
    const serial = <T>(work: () => Promise<T>): Promise<T> => {
      const run = queue.then(work, work);
      queue = run.catch(() => undefined);
      return run;
    };

    /** Notes what one commit of history records (commits are visited newest first). */
    const learn = (commit: string, effects: readonly RecordedEffect[]) => {
      for (const effect of effects) {
        if (!committed.has(effect.id)) committed.set(effect.id, { commit, contentHash: effect.contentHash });
        if (effect.target === undefined || effect.order === undefined) continue;
        const known = newest.get(effect.target);
        if (known !== undefined && known.order >= effect.order) continue;
        newest.set(effect.target, { order: effect.order, intentId: effect.id, commit });
      }
    };

    /** Learns the trailers of commits made since we last looked (by us or another writer). */
    const catchUp = async (head: string | undefined) => {
      if (head === undefined || head === lastHead) return;
      if (lastHead === undefined) {
        // The whole history once, through git itself (fast even for long histories); each
        // record is the commit id, a line break and the raw message, NUL-terminated.
        const log = await git(dir, identity, ['log', '-z', '--format=%H%n%B', head]);
        for (const record of log.split('\0')) {
          const newline = record.indexOf('\n');
          const hash = record.slice(0, newline === -1 ? undefined : newline).trim();
          if (/^[0-9a-f]{40}$/.test(hash)) learn(hash, trailerEffects(newline === -1 ? '' : record.slice(newline + 1)));
        }
      } else {
        for (let oid: string | undefined = head; oid !== undefined && oid !== lastHead; ) {
          const { message, parents } = await repo.commitMessage(oid);
          learn(oid, trailerEffects(message));
          oid = parents[0];
        }
      }
      lastHead = head;
    };

    const withRepoLock = async <T>(work: () => Promise<T>): Promise<T> => {
      const release = await lockfile.lock(dir, {
        lockfilePath: join(dir, '.git', 'conductor-writer.lock'),
        // A writer killed while holding the lock stops refreshing it; others take over after
        // `stale`. Should a live writer be judged stale (a long stall), git's own ref update
        // still refuses a lost race, and the trailer check keeps the commit unique.
        stale: 2_000,
        update: 500,
        retries: { retries: 400, minTimeout: 2, maxTimeout: 25 },
        onCompromised: (error) => context.log.warn({ err: error }, 'the repository writer lock was taken over'),
      });
      try {
        return await work();
      } finally {
        await release().catch(() => undefined);
      }
    };

    type RefusalCode = 'CND_ERR_INTENT_CONFLICT' | 'CND_ERR_INTENT_SUPERSEDED' | 'CND_ERR_SUBMIT_PERMANENT';
    const refusal = (p: Effect, code: RefusalCode, message: string, details?: Record<string, unknown>) =>
      new ConductorError(code, message, {
        plugin: context.id,
        intentId: p.intentId,
        stage: 'submit',
        ...(details === undefined ? {} : { details }),
      });

    /** The same id in history: the same effect (its commit back), or with other content a conflict. */
    const earlierEffect = (p: Effect): Receipt | ConductorError | undefined => {
      const known = committed.get(p.intentId);
      if (known === undefined) return undefined;
      // A commit of the older shape records no hash: taken as the same content.
      if (known.contentHash === undefined || p.contentHash === undefined || known.contentHash === p.contentHash) {
        return { sink: context.id, ref: known.commit, reused: true };
      }
      return refusal(
        p,
        'CND_ERR_INTENT_CONFLICT',
        `intent ${p.intentId} was already committed with other content in commit ${known.commit}; a correlation_id names one ` +
          'intent: use a new correlation_id for new content',
        { securityEvent: 'intent-conflict', commit: known.commit },
      );
    };

    /** A newer intent for the same target already applied (in history or earlier in this group)? */
    const newerThan = (p: Effect, inGroup: ReadonlyMap<string, Newest>): ConductorError | undefined => {
      const key = targetKey(p.intent);
      const newer = inGroup.get(key) ?? newest.get(key);
      if (newer === undefined || p.order === undefined || newer.order <= p.order) return undefined;
      const where = newer.commit === undefined ? 'in the same commit' : `in commit ${newer.commit}`;
      return refusal(
        p,
        'CND_ERR_INTENT_SUPERSEDED',
        `a newer intent for ${key} is already applied: ${newer.intentId} (written ${new Date(newer.order).toISOString()}, this one ` +
          `${new Date(p.order).toISOString()}) ${where}`,
        { newerIntentId: newer.intentId, ...(newer.commit === undefined ? {} : { commit: newer.commit }) },
      );
    };

    /**
     * Commits a group of intents (one, unless grouping is on) as one commit on the current HEAD.
     * Per intent, in order: one already in history gets that commit back (or, with other content,
     * a conflict); one older than what history holds for its target is superseded; a path the
     * sink must not write (a link on the way, a bad segment) is refused. The rest share one
     * commit, intents for one target applied oldest first. Returns a receipt or an error per intent.
     */
    const commit = async (group: readonly Pending[]): Promise<(Receipt | ConductorError)[]> => {
      const head = await repo.head();
      await catchUp(head);
      const results: (Receipt | ConductorError | undefined)[] = group.map(earlierEffect);
      // Oldest first (stable; an intent without an order keeps its place before the ordered ones).
      const candidates = group.map((p, i) => ({ p, i })).filter(({ i }) => results[i] === undefined);
      const orderOf = (p: Effect) => p.order ?? Number.NEGATIVE_INFINITY;
      candidates.sort((a, b) => (orderOf(a.p) < orderOf(b.p) ? -1 : orderOf(a.p) > orderOf(b.p) ? 1 : 0));
      const inGroup = new Map<string, Newest>();
      const packages = new Map<string, PackageWork>();
      const applied: { p: Pending; i: number }[] = [];
      for (const candidate of candidates) {
        const { p, i } = candidate;
        const superseded = newerThan(p, inGroup);
        if (superseded !== undefined) {
          results[i] = superseded;
          continue;
        }
        try {
          const work = await applyToPackage(head, p, packages);
          packages.set(work.path.join('/'), work);
        } catch (error) {
          // A refusal for good (a path the sink must not write, a new target without a blueprint)
          // fails this intent alone; the others of its group go on.
          if (error instanceof RefusedPath) results[i] = refusal(p, 'CND_ERR_SUBMIT_PERMANENT', `not written: ${error.message}`);
          else if (isConductorError(error) && !error.retryable) results[i] = error;
          else throw error;
          continue;
        }
        if (p.order !== undefined) inGroup.set(targetKey(p.intent), { order: p.order, intentId: p.intentId, commit: undefined });
        applied.push(candidate);
      }
      if (applied.length === 0) return results as (Receipt | ConductorError)[];

      const changes = [...packages.values()].flatMap(changedFiles);
      const durable = durability(fullSync);
      const message = commitMessage(applied.map(({ p }) => p));
      const oid = await repo.commit(head, changes, { ...identity, time: Math.floor(Date.now() / 1000) }, message, durable);
      lastHead = oid;
      learn(oid, trailerEffects(message));
      if (options.worktree) await writeWorkingTree(changes, packages);
      crashPoint('git.worktree-written');
      for (const { i } of applied) results[i] = { sink: context.id, ref: oid };
      return results as (Receipt | ConductorError)[];
    };

    /**
     * The intent applied to its package (as this group left it, else as HEAD holds it): a new
     * package rendered, or the one file holding the Deployment changed. Throws RefusedPath for a
     * path it must not write.
     */
    const applyToPackage = async (
      head: string | undefined,
      p: Effect,
      packages: ReadonlyMap<string, PackageWork>,
    ): Promise<PackageWork> => {
      const { intent, intentId } = p;
      checkSegment(intent.namespace, 'namespace');
      const packageName = packageNameOf(intent);
      checkSegment(packageName, 'package name');
      const path = [intent.namespace, packageName];
      const known = packages.get(path.join('/'));
      const snapshot = known === undefined ? await repo.readPackage(head, path) : known.snapshot;
      const current = known?.files ?? snapshot?.files;
      const files = current === undefined ? blueprint.newPackage(intent, intentId) : applyIntentToPackage(current, intent, intentId).files;
      const work: PackageWork = { path, snapshot, files };
      for (const change of changedFiles(work)) {
        const relative = change.path.slice(path.length);
        relative.forEach((segment) => checkSegment(segment, 'file path segment'));
        const taken = relative.map((_, n) => relative.slice(0, n + 1).join('/')).find((prefix) => snapshot?.occupied.has(prefix));
        if (taken !== undefined) {
          throw new RefusedPath(`${[...path, taken].join('/')} is a symbolic link, submodule or subpackage in the repository`);
        }
        if (options.worktree) checkWritable(dir, change.path);
      }
      return work;
    };

    /** Only the files whose content changed (a new package: all of them). */
    const changedFiles = (work: PackageWork): FileChange[] =>
      Object.entries(work.files)
        .filter(([name, content]) => work.snapshot?.files[name] !== content)
        .map(([name, content]) => ({ path: [...work.path, ...name.split('/')], content }));

    /**
     * Writes the changed files into the working tree. The commit is the effect and is already
     * made: a failure here is logged, and the next start makes the working tree equal to HEAD.
     */
    const writeWorkingTree = async (changes: readonly FileChange[], packages: ReadonlyMap<string, PackageWork>) => {
      for (const change of changes) {
        const work = packages.get(change.path.slice(0, 2).join('/'));
        const executable = work?.snapshot?.modes[change.path.slice(2).join('/')] === '100755';
        try {
          await writeWorkingFile(dir, repo.gitDir, change.path, change.content, executable);
        } catch (error) {
          const path = change.path.join('/');
          context.log.warn({ err: error, path }, 'could not write the working-tree file; start repairs it from HEAD');
        }
      }
    };

    /** Takes the intents waiting (up to the group size) and commits them under the writer lock. */
    const commitWaiting = async () => {
      const group = pending.splice(0, options.maxIntentsPerCommit);
      if (group.length === 0) return;
      try {
        const results = await withRepoLock(() => commit(group));
        group.forEach((p, i) => {
          const result = results[i]!;
          if (result instanceof ConductorError) p.reject(result);
          else p.resolve(result);
        });
      } catch (error) {
        for (const p of group) {
          p.reject(
            new ConductorError('CND_ERR_SUBMIT_TRANSIENT', `git commit failed: ${(error as Error).message}`, {
              plugin: context.id,
              intentId: p.intentId,
              cause: error,
            }),
          );
        }
      }
    };

    /**
     * Makes the index and the working tree equal to HEAD for tracked files (untracked files are
     * left alone): first the index's stat data is refreshed, so that files already equal to HEAD
     * are not rewritten; then `reset --hard` rewrites the ones that differ — torn, missing or
     * edited — with git's own checks against symlinked leading paths.
     */
    const syncWorkingTree = async () => {
      if ((await repo.head()) === undefined) return;
      if (!options.worktree) {
        await git(dir, identity, ['read-tree', 'HEAD']);
        return;
      }
      // Exits 1 when some file differs from the index: exactly what the reset then repairs.
      await git(dir, identity, ['update-index', '-q', '--refresh']).catch(() => undefined);
      await git(dir, identity, ['reset', '-q', '--hard', 'HEAD']);
    };

    /**
     * What a commit of this intent would do, read from HEAD without the writer lock, the repair
     * start does, or a write: the same checks in the same order as `commit`, on one intent.
     */
    const plan = async (intent: Intent, request: PlanRequest): Promise<PlanResult> => {
      const { intentId, file, contentHash, order } = request;
      const effect: Effect = { intent, intentId, file, contentHash, order, anchor: undefined };
      const head = (await repo.exists()) ? await repo.head() : undefined;
      await catchUp(head);
      const base = head ?? 'none';
      const earlier = earlierEffect(effect);
      if (earlier instanceof ConductorError) return { outcome: 'conflict', message: earlier.message, files: [], base };
      if (earlier !== undefined) return { outcome: 'duplicate', message: `already committed in ${earlier.ref}`, files: [], base };
      const superseded = newerThan(effect, new Map());
      if (superseded !== undefined) return { outcome: 'superseded', message: superseded.message, files: [], base };
      let work: PackageWork;
      try {
        // load() only reads the blueprint directory (start does it for a running sink).
        if (blueprintNeeded) {
          await blueprint.load();
          blueprintNeeded = false;
        }
        work = await applyToPackage(head, effect, new Map());
      } catch (error) {
        if (error instanceof RefusedPath) return { outcome: 'refused', message: `not written: ${error.message}`, files: [], base };
        if (isConductorError(error) && !error.retryable) return { outcome: 'refused', message: `${error.code}: ${error.message}`, files: [], base };
        throw error;
      }
      const files = changedFiles(work).map((change) => {
        const before = work.snapshot?.files[change.path.slice(work.path.length).join('/')];
        return { path: change.path.join('/'), ...(before === undefined ? {} : { before }), after: change.content };
      });
      return { outcome: 'apply', files, base };
    };
    let blueprintNeeded = true;

    return {
      plan: (intent, request) => serial(() => plan(intent, request)),
      history: async (query) => ((await repo.exists()) ? readHistory(dir, identity, await repo.head(), query) : []),
      async start() {
        await blueprint.load();
        blueprintNeeded = false;
        await fs.mkdir(dir, { recursive: true });
        if (!(await repo.exists())) repo.init();
        await withRepoLock(async () => {
          // Every writer holds this lock when it touches the index or writes objects, the branch
          // or the working tree, so what is found now was left by one that was killed.
          rmSync(join(dir, '.git', 'index.lock'), { force: true });
          const removed = repo.removeTemporaries();
          removeStaging(repo.gitDir);
          if (removed.length > 0) context.log.info({ count: removed.length }, 'removed temporary files a stopped writer left');
          await catchUp(await repo.head());
          await syncWorkingTree();
        });
        ready = true;
      },
      async stop() {
        if (!ready) return;
        ready = false;
        await queue;
        await withRepoLock(syncWorkingTree).catch((error: unknown) => {
          context.log.warn({ err: error }, 'could not bring the working tree to HEAD');
        });
      },
      status: () => (ready ? { ready: true, details: { commits: committed.size } } : { ready: false, message: 'repository not open' }),
      apply(hooks) {
        hooks.submit.tapPromise(
          context.id,
          (intent, ctx) =>
            new Promise<Receipt>((resolve, reject) => {
              const { intentId, file, contentHash, order, anchor } = ctx;
              pending.push({ intent, intentId, file, contentHash, order, anchor, resolve, reject });
              // One turn per submission; a turn finding its intents taken by an earlier group does nothing.
              void serial(commitWaiting);
            }),
        );
      },
    };
  },
});
