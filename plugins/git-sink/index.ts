// The embedded default sink (DESIGN §4): each intent becomes a kpt package under
// <namespace>/<target>/ in a local git repository (`<dataDir>/out`), one commit per intent
// carrying the trailer `Conductor-Intent-Id: <id>`. Argo CD or Flux can sync that repository.
//
// Commits are built directly as git objects from the previous tree (repo.ts), so a commit
// costs a few small file writes instead of an index scan and several git processes.
// Idempotent: the trailers in history are read at start, and again from whatever other writers
// committed since, so re-delivering a committed intent (after a crash between commit and ledger
// write, or by another replica) is a no-op returning the commit. Writers in several processes
// take turns through a lock file in .git.
import { existsSync, promises as fs, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import lockfile from 'proper-lockfile';
import {
  ConductorError,
  applyIntentToPackage,
  definePlugin,
  renderPackage,
  sleep,
  type Intent,
  type Receipt,
} from '../../core/index.ts';
import { git, type GitIdentity } from './git.ts';
import { Repo } from './repo.ts';

interface Options {
  /** The repository directory; `<dataDir>/out` by default. */
  dir?: string;
  branch: string;
  authorName: string;
  authorEmail: string;
  /** Also write each package into the working tree (the index is refreshed at start and stop). */
  worktree: boolean;
}

export const TRAILER = 'Conductor-Intent-Id';
const TRAILER_LINE = new RegExp(`^${TRAILER}: (\\S+)$`, 'm');

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
    },
    required: ['branch', 'authorName', 'authorEmail', 'worktree'],
  },
  defaults: { branch: 'main', authorName: 'Conductor', authorEmail: 'conductor@localhost', worktree: true },
  create(context, options) {
    const dir = resolve(context.dataDir, options.dir ?? 'out');
    const identity: GitIdentity = { name: options.authorName, email: options.authorEmail };
    const repo = new Repo(dir, options.branch);
    const committed = new Map<string, string>();
    let lastHead: string | undefined;
    let queue: Promise<unknown> = Promise.resolve();
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
          const [hash, id] = line.trim().split(/\s+/);
          if (hash && id) committed.set(id, hash);
        }
      } else {
        for (let oid: string | undefined = head; oid !== undefined && oid !== lastHead; ) {
          const { message, parents } = await repo.commitMessage(oid);
          const id = TRAILER_LINE.exec(message)?.[1];
          if (id !== undefined && !committed.has(id)) committed.set(id, oid);
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

    const commit = async (intent: Intent, intentId: string, file: string): Promise<Receipt> => {
      const head = await repo.head();
      await catchUp(head);
      const known = committed.get(intentId);
      if (known !== undefined) return { sink: context.id, ref: known, reused: true };
      const path = [intent.namespace, intent.target];
      const existing = await repo.readDirectory(head, path);
      const files = existing === undefined ? renderPackage(intent, intentId) : applyIntentToPackage(existing, intent, intentId).files;
      const subject = `${intent.intent_type} ${intent.namespace}/${intent.target} to ${intent.replicas} replicas`;
      const body = [intent.reason ? `Reason: ${intent.reason}` : '', `Intent file: ${file}`].filter(Boolean).join('\n');
      const message = `${subject}\n\n${body}\n\n${TRAILER}: ${intentId}\n`;
      const oid = await repo.commit(head, path, files, { ...identity, time: Math.floor(Date.now() / 1000) }, message);
      committed.set(intentId, oid);
      lastHead = oid;
      if (options.worktree) {
        const packageDir = join(dir, ...path);
        await fs.mkdir(packageDir, { recursive: true });
        for (const [name, content] of Object.entries(files)) if (existing?.[name] !== content) await fs.writeFile(join(packageDir, name), content);
      }
      return { sink: context.id, ref: oid };
    };

    /**
     * Creates the repository. Replicas starting together may race to do it: a loser of that race
     * waits until the winner's `git init` has finished, then goes on with the repository it made.
     */
    const initialise = async () => {
      try {
        await git(dir, identity, ['init', '--quiet', '--initial-branch', options.branch]);
      } catch (error) {
        for (let waited = 0; waited < 10_000; waited += 50) {
          if ((await repo.exists()) && !existsSync(join(dir, '.git', 'config.lock'))) return;
          await sleep(50);
        }
        throw error;
      }
    };

    /** Points the index at HEAD, so `git status` in the repository shows a clean tree. */
    const refreshIndex = async () => {
      if (options.worktree && (await repo.head()) !== undefined) await git(dir, identity, ['read-tree', 'HEAD']).catch(() => undefined);
    };

    return {
      async start() {
        await fs.mkdir(dir, { recursive: true });
        if (!(await repo.exists())) await initialise();
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
        hooks.submit.tapPromise(context.id, (intent, ctx) =>
          serial(() =>
            withRepoLock(() => commit(intent, ctx.intentId, ctx.file)).catch((error: unknown) => {
              throw new ConductorError('CND_ERR_SUBMIT_TRANSIENT', `git commit failed: ${(error as Error).message}`, {
                plugin: context.id,
                intentId: ctx.intentId,
                cause: error,
              });
            }),
          ),
        );
      },
    };
  },
});
