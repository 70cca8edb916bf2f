// The embedded default sink (DESIGN §4): each intent becomes a kpt package under
// out/<namespace>/<target>/ in a local git repository, one commit per intent carrying the
// trailer `Conductor-Intent-Id: <id>`. Argo CD or Flux can sync that repository.
// Idempotent: the trailers already in history are read at start, so re-delivering a committed
// intent (after a crash between commit and ledger write) is a no-op that returns the commit.
import { existsSync, promises as fs, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  ConductorError,
  applyIntentToPackage,
  definePlugin,
  renderPackage,
  type Intent,
  type PackageFiles,
  type Receipt,
} from '../../core/index.ts';
import { git, type GitIdentity } from './git.ts';

interface Options {
  /** The repository directory; `<dataDir>/out` by default. */
  dir?: string;
  branch: string;
  authorName: string;
  authorEmail: string;
}

export const TRAILER = 'Conductor-Intent-Id';

export default definePlugin<Options>({
  name: 'git-sink',
  kind: 'submit',
  description: 'Commits each intent as a kpt package to a local git repository (the embedded default sink).',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      dir: { type: 'string', minLength: 1 },
      branch: { type: 'string', pattern: '^[A-Za-z0-9._/-]+$' },
      authorName: { type: 'string', minLength: 1 },
      authorEmail: { type: 'string', minLength: 3 },
    },
    required: ['branch', 'authorName', 'authorEmail'],
  },
  defaults: { branch: 'main', authorName: 'Conductor', authorEmail: 'conductor@localhost' },
  create(context, options) {
    const dir = resolve(context.dataDir, options.dir ?? 'out');
    const identity: GitIdentity = { name: options.authorName, email: options.authorEmail };
    const committed = new Map<string, string>();
    let queue: Promise<unknown> = Promise.resolve();
    let ready = false;

    /** Commits run one at a time: the index and HEAD are shared. */
    const serial = <T>(work: () => Promise<T>): Promise<T> => {
      const run = queue.then(work, work);
      queue = run.catch(() => undefined);
      return run;
    };

    const readPackage = async (packageDir: string): Promise<PackageFiles | undefined> => {
      if (!existsSync(packageDir)) return undefined;
      const files: PackageFiles = {};
      for (const name of await fs.readdir(packageDir)) {
        const path = join(packageDir, name);
        if ((await fs.lstat(path)).isFile()) files[name] = await fs.readFile(path, 'utf8');
      }
      return files;
    };

    const commit = async (intent: Intent, intentId: string, file: string): Promise<Receipt> => {
      const known = committed.get(intentId);
      if (known !== undefined) return { sink: context.id, ref: known, reused: true };
      const relative = join(intent.namespace, intent.target);
      const packageDir = join(dir, relative);
      const existing = await readPackage(packageDir);
      const files = existing === undefined ? renderPackage(intent, intentId) : applyIntentToPackage(existing, intent, intentId).files;
      await fs.mkdir(packageDir, { recursive: true });
      for (const [name, content] of Object.entries(files)) {
        if (existing?.[name] !== content) await fs.writeFile(join(packageDir, name), content);
      }
      const subject = `${intent.intent_type} ${intent.namespace}/${intent.target} to ${intent.replicas} replicas`;
      const body = [intent.reason ? `Reason: ${intent.reason}` : '', `Intent file: ${file}`].filter(Boolean).join('\n');
      await git(dir, identity, ['add', '-A', '--', relative]);
      await git(dir, identity, ['commit', '--quiet', '--allow-empty', '--no-verify', '-F', '-'], `${subject}\n\n${body}\n\n${TRAILER}: ${intentId}\n`);
      const hash = (await git(dir, identity, ['rev-parse', 'HEAD'])).trim();
      committed.set(intentId, hash);
      return { sink: context.id, ref: hash };
    };

    return {
      async start() {
        await fs.mkdir(dir, { recursive: true });
        if (!existsSync(join(dir, '.git'))) await git(dir, identity, ['init', '--quiet', '--initial-branch', options.branch]);
        // This process owns the data directory: a lock left by a killed commit is stale.
        for (const lock of ['index.lock', 'HEAD.lock', join('refs', 'heads', `${options.branch}.lock`)]) rmSync(join(dir, '.git', lock), { force: true });
        const hasHead = await git(dir, identity, ['rev-parse', '--verify', '--quiet', 'HEAD']).then(() => true, () => false);
        if (hasHead) {
          const log = await git(dir, identity, ['log', `--format=%H %(trailers:key=${TRAILER},valueonly,separator=%x20)`]);
          for (const line of log.split('\n')) {
            const [hash, id] = line.trim().split(/\s+/);
            if (hash && id) committed.set(id, hash);
          }
        }
        ready = true;
      },
      stop() {
        ready = false;
        return queue.then(() => undefined);
      },
      status: () => (ready ? { ready: true, details: { commits: committed.size } } : { ready: false, message: 'repository not open' }),
      apply(hooks) {
        hooks.submit.tapPromise(context.id, (intent, ctx) =>
          serial(() =>
            commit(intent, ctx.intentId, ctx.file).catch((error: unknown) => {
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
