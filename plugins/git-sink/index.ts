// The embedded default sink (DESIGN §4): each intent becomes a kpt package under
// <namespace>/<target>/ in a local git repository (`<dataDir>/out`), one commit per intent
// carrying the trailer `Conductor-Intent-Id: <id>`. Argo CD or Flux can sync that repository.
// With `maxIntentsPerCommit` above 1, the intents waiting while a commit is written go into the
// next commit together, each keeping its own trailer (no waiting is added to form a group).
//
// Commits are built directly as git objects from the previous tree (repo.ts), so a commit
// costs a few small file writes instead of an index scan and several git processes.
// Idempotent: the trailers in history are read at start, and again from whatever other writers
// committed since, so re-delivering a committed intent (after a crash between commit and ledger
// write, or by another replica) is a no-op returning the commit. Writers in several processes
// take turns through a lock file in .git.
import { promises as fs, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import lockfile from 'proper-lockfile';
import {
  ConductorError,
  applyIntentToPackage,
  definePlugin,
  renderPackage,
  type Intent,
  type Receipt,
} from '../../core/index.ts';
import { git, type GitIdentity } from './git.ts';
import { Repo } from './repo.ts';
import { crashPoint } from '../../core/index.ts';

interface Options {
  /** The repository directory; `<dataDir>/out` by default. */
  dir?: string;
  branch: string;
  authorName: string;
  authorEmail: string;
  /** Also write each package into the working tree (the index is refreshed at start and stop). */
  worktree: boolean;
  /** At most this many intents per commit; 1 (the default) is one commit per intent. */
  maxIntentsPerCommit: number;
}

/** An intent waiting for its turn to be committed. */
interface Pending {
  intent: Intent;
  intentId: string;
  file: string;
  resolve(receipt: Receipt): void;
  reject(error: unknown): void;
}

export const TRAILER = 'Conductor-Intent-Id';
const TRAILER_LINES = new RegExp(`^${TRAILER}: (\\S+)$`, 'gm');

export default definePlugin<Options>({
  name: 'git-sink',
  kind: 'submit',
  description: 'Commits each intent as a kpt package to a local git repository (the embedded default sink).',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      dir: { type: 'string', minLength: 1 },
      branch: { type: 'string', pattern: '^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$' },
      authorName: { type: 'string', minLength: 1, pattern: '^[^<>\\n]+$' },
      authorEmail: { type: 'string', minLength: 3, pattern: '^[^<>\\s]+$' },
      worktree: { type: 'boolean' },
      maxIntentsPerCommit: { type: 'integer', minimum: 1, maximum: 1000 },
    },
    required: ['branch', 'authorName', 'authorEmail', 'worktree', 'maxIntentsPerCommit'],
  },
  defaults: { branch: 'main', authorName: 'Conductor', authorEmail: 'conductor@localhost', worktree: true, maxIntentsPerCommit: 1 },
  create(context, options) {
    const dir = resolve(context.dataDir, options.dir ?? 'out');
    const identity: GitIdentity = { name: options.authorName, email: options.authorEmail };
    const repo = new Repo(dir, options.branch);
    const committed = new Map<string, string>();
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

    /** Learns the trailers of commits made since we last looked (by us or another writer). */
    const catchUp = async (head: string | undefined) => {
      if (head === undefined || head === lastHead) return;
      if (lastHead === undefined) {
        // The whole history once, through git itself (fast even for long histories).
        const log = await git(dir, identity, ['log', `--format=%H %(trailers:key=${TRAILER},valueonly,separator=%x20)`, head]);
        for (const line of log.split('\n')) {
          // A grouped commit carries one trailer per intent.
          const [hash, ...ids] = line.trim().split(/\s+/);
          if (hash) for (const id of ids) if (!committed.has(id)) committed.set(id, hash);
        }
      } else {
        for (let oid: string | undefined = head; oid !== undefined && oid !== lastHead; ) {
          const { message, parents } = await repo.commitMessage(oid);
          for (const id of trailerIds(message)) if (!committed.has(id)) committed.set(id, oid);
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

    /**
     * Commits a group of intents (one, unless grouping is on) as one commit on the current HEAD.
     * An intent already in history (committed before a crash, or by another replica) gets that
     * commit back instead. Returns one receipt per intent, in order.
     */
    const commit = async (group: readonly Pending[]): Promise<Receipt[]> => {
      const head = await repo.head();
      await catchUp(head);
      const receipts: (Receipt | undefined)[] = group.map((p) => {
        const known = committed.get(p.intentId);
        return known === undefined ? undefined : { sink: context.id, ref: known, reused: true };
      });
      const fresh = group.filter((_, i) => receipts[i] === undefined);
      if (fresh.length === 0) return receipts as Receipt[];
      // Package directory → its files before and after; two intents of one group may share one.
      const packages = new Map<string, { path: string[]; before: Record<string, string> | undefined; files: Record<string, string> }>();
      for (const { intent, intentId } of fresh) {
        const path = [intent.namespace, intent.target];
        const key = path.join('/');
        const known = packages.get(key);
        const before = known === undefined ? await repo.readDirectory(head, path) : known.before;
        const current = known?.files ?? before;
        const files = current === undefined ? renderPackage(intent, intentId) : applyIntentToPackage(current, intent, intentId).files;
        packages.set(key, { path, before, files });
      }
      const changes = [...packages.values()];
      const oid = await repo.commit(head, changes, { ...identity, time: Math.floor(Date.now() / 1000) }, commitMessage(fresh));
      for (const { intentId } of fresh) committed.set(intentId, oid);
      lastHead = oid;
      if (options.worktree) {
        for (const { path, before, files } of changes) {
          const packageDir = join(dir, ...path);
          await fs.mkdir(packageDir, { recursive: true });
          crashPoint('git.worktree-dir-made');
          for (const [name, content] of Object.entries(files)) if (before?.[name] !== content) await fs.writeFile(join(packageDir, name), content);
          crashPoint('git.worktree-written');
        }
      }
      return receipts.map((r) => r ?? { sink: context.id, ref: oid });
    };

    /** Takes the intents waiting (up to the group size) and commits them under the writer lock. */
    const commitWaiting = async () => {
      const group = pending.splice(0, options.maxIntentsPerCommit);
      if (group.length === 0) return;
      try {
        const receipts = await withRepoLock(() => commit(group));
        group.forEach((p, i) => p.resolve(receipts[i]!));
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

    /** Points the index at HEAD, so `git status` in the repository shows a clean tree. */
    const refreshIndex = async () => {
      if (options.worktree && (await repo.head()) !== undefined) await git(dir, identity, ['read-tree', 'HEAD']).catch(() => undefined);
    };

    return {
      async start() {
        await fs.mkdir(dir, { recursive: true });
        if (!(await repo.exists())) repo.init();
        await withRepoLock(async () => {
          // Every writer holds this lock when it touches the index, so a git lock found now was
          // left by one that was killed: it is stale.
          rmSync(join(dir, '.git', 'index.lock'), { force: true });
          await catchUp(await repo.head());
          await refreshIndex();
        });
        ready = true;
      },
      async stop() {
        if (!ready) return;
        ready = false;
        await queue;
        await withRepoLock(refreshIndex).catch(() => undefined);
      },
      status: () => (ready ? { ready: true, details: { commits: committed.size } } : { ready: false, message: 'repository not open' }),
      apply(hooks) {
        hooks.submit.tapPromise(
          context.id,
          (intent, ctx) =>
            new Promise<Receipt>((resolve, reject) => {
              pending.push({ intent, intentId: ctx.intentId, file: ctx.file, resolve, reject });
              // One turn per submission; a turn finding its intents taken by an earlier group does nothing.
              void serial(commitWaiting);
            }),
        );
      },
    };
  },
});

/**
 * The commit message: for one intent, what it does, why and from which file; for a group, one
 * line per intent. Either way the trailer block ends it, one `Conductor-Intent-Id` per intent.
 */
export function commitMessage(group: readonly Pick<Pending, 'intent' | 'intentId' | 'file'>[]): string {
  const what = (intent: Intent) => `${intent.intent_type} ${intent.namespace}/${intent.target} to ${intent.replicas} replicas`;
  // A reason may hold line breaks; kept on one line it can never pass for a trailer.
  const oneLine = (text: string | undefined) => text?.replace(/\s+/g, ' ').trim();
  const trailers = group.map((p) => `${TRAILER}: ${p.intentId}`).join('\n');
  if (group.length === 1) {
    const { intent, file } = group[0]!;
    const body = [intent.reason ? `Reason: ${oneLine(intent.reason)}` : '', `Intent file: ${file}`].filter(Boolean).join('\n');
    return `${what(intent)}\n\n${body}\n\n${trailers}\n`;
  }
  const lines = group.map(({ intent, file }) => `- ${what(intent)} (${file}${intent.reason ? `: ${oneLine(intent.reason)}` : ''})`);
  return `Apply ${group.length} intents\n\n${lines.join('\n')}\n\n${trailers}\n`;
}

/** The intent ids in a commit message's trailer block (its last paragraph), as git reads them. */
export function trailerIds(message: string): string[] {
  const text = message.trimEnd();
  const block = text.slice(text.lastIndexOf('\n\n') + 1);
  return [...block.matchAll(TRAILER_LINES)].map((m) => m[1]!);
}
