// The embedded default sink: each intent becomes a kpt package under <namespace>/<package>/
// (the package name is `constraints.kpt_package_name`, else the target) in a local git
// repository (`<dataDir>/out`), one commit per intent carrying its trailers (trailers.ts). Argo
// CD or Flux can sync that repository. An existing package changes in the one file that holds
// the Deployment; every other entry keeps its blob and mode.
// With `maxIntentsPerCommit` above 1, the intents waiting while a commit is written go into the
// next commit together, each keeping its own trailer (no waiting is added to form a group).
//
// Commits are written the way git writes in bulk: streamed to one long-lived `git fast-import`,
// the intents waiting made durable together by one checkpoint (commit-queue.ts, repo.ts).
// Idempotent: the trailers in history are read at start, and again from whatever other writers
// committed since, so re-delivering a committed intent (after a crash between commit and ledger
// write, or by another replica) is a no-op returning the commit — when its content is the same;
// the same id with other content is a conflict. History also says, per target, the producer's
// order of the newest intent applied: an older one arriving later is settled as superseded.
// Writers in several processes take turns through a lock file in .git; at start, holding it,
// the sink removes what a killed writer left and makes the working tree equal to HEAD.
import { definePlugin } from '../../core/index.ts';
import { DOCS, OPTIONS_SCHEMA } from './metadata.ts';
import { GitSink } from './sink.ts';

export { EFFECT_TRAILER, TRAILER, commitMessage, trailerEffects, trailerIds, type RecordedEffect } from './trailers.ts';

export default definePlugin({
  name: 'git-sink',
  kind: 'submit',
  description:
    'Commits each intent as a kpt package to a local git repository (the embedded default sink). ' +
    'Durability: commits are written by git fast-import as packs, and the intents waiting are acknowledged together once ' +
    'a checkpoint has closed the pack and moved the branch; working-tree files are written to a temporary name and renamed, ' +
    'so a process crash leaves every file old or new, and start repairs the working tree from HEAD. With sync "full" (or ' +
    'ledger.sync "full" when sync is unset) the packs, the branch and their directories are also fsynced before the receipt, so an ' +
    'acknowledged commit survives a power loss; with "normal" a power loss may lose the last commits (they are redone ' +
    'from handoff/ and the ledger when those survived) and the working tree is never fsynced.',
  optionsSchema: OPTIONS_SCHEMA,
  docs: DOCS,
  create(context, options) {
    return new GitSink(context, options).instance();
  },
});
