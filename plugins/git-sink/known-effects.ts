// What the repository's history says about intents, learned from the commit trailers: which
// commit applied an intent id and with what content (a re-delivery is the same effect, other
// content under the same id a conflict), and per target the newest intent applied by the
// producer's order (an older one arriving later is superseded). Read once at start through
// `git log`, then commit by commit for whatever another writer added since.
import { ConductorError, type Intent, type Receipt } from '../../core/index.ts';
import { detached } from './detached.ts';
import { EffectIndex } from './effect-index.ts';
import { gitRecords, type GitIdentity } from './git.ts';
import type { Repo } from './repo.ts';
import { targetKey, trailerEffects, type RecordedEffect } from './trailers.ts';

/** An intent's effect as the commit (or a plan of it) needs it. */
export interface Effect {
  intent: Intent;
  intentId: string;
  file: string;
  contentHash: string | undefined;
  order: number | undefined;
  /** The audit chain's head before this effect (see the audit-log plugin), recorded as a trailer. */
  anchor: string | undefined;
}

/** The newest intent applied for a target, by the producer's order. */
export interface Newest {
  order: number;
  intentId: string;
  /** Undefined while it is only part of the commits being built. */
  commit: string | undefined;
}

type RefusalCode = 'CND_ERR_INTENT_CONFLICT' | 'CND_ERR_INTENT_SUPERSEDED' | 'CND_ERR_SUBMIT_PERMANENT';

export class KnownEffects {
  readonly #plugin: string;
  readonly #repo: Repo;
  readonly #identity: GitIdentity;
  /** Intent id → the commit holding it and the content it had (all of history, compact). */
  readonly #committed = new EffectIndex();
  readonly #newest = new Map<string, Newest>();
  #lastHead: string | undefined;

  constructor(plugin: string, repo: Repo, identity: GitIdentity) {
    this.#plugin = plugin;
    this.#repo = repo;
    this.#identity = identity;
  }

  get size(): number {
    return this.#committed.size;
  }

  /** Notes what one commit of history records (commits are visited newest first). */
  learn(commit: string, effects: readonly RecordedEffect[]): void {
    for (const effect of effects) {
      this.#committed.addIfAbsent(effect.id, commit, effect.contentHash);
      if (effect.target === undefined || effect.order === undefined) continue;
      const known = this.#newest.get(effect.target);
      if (known !== undefined && known.order >= effect.order) continue;
      // Copies: the strings are cut from the commit message, and would keep all of it alive.
      this.#newest.set(detached(effect.target), { order: effect.order, intentId: detached(effect.id), commit: detached(commit) });
    }
  }

  /** Notes commits this process made on top of what it knew (oldest first), and their head. */
  learnOwn(commits: readonly { oid: string; message: string }[]): void {
    for (const { oid, message } of [...commits].reverse()) this.learn(oid, trailerEffects(message));
    if (commits.length > 0) this.#lastHead = commits.at(-1)!.oid;
  }

  /** Learns the trailers of commits made since we last looked (by us or another writer). */
  async catchUp(head: string | undefined): Promise<void> {
    if (head === undefined || head === this.#lastHead) return;
    if (this.#lastHead === undefined) {
      // The whole history once, through git itself (fast even for long histories), read as it
      // comes: each record is the commit id, a line break and the raw message, NUL-terminated.
      await gitRecords(this.#repo.dir, this.#identity, ['log', '-z', '--format=%H%n%B', head], (record) => {
        const newline = record.indexOf('\n');
        const hash = record.slice(0, newline === -1 ? undefined : newline).trim();
        if (/^[0-9a-f]{40}$/.test(hash)) this.learn(hash, trailerEffects(newline === -1 ? '' : record.slice(newline + 1)));
      });
    } else {
      for (let oid: string | undefined = head; oid !== undefined && oid !== this.#lastHead;) {
        const { message, parents } = await this.#repo.commitMessage(oid);
        this.learn(oid, trailerEffects(message));
        oid = parents[0];
      }
    }
    this.#lastHead = head;
  }

  refusal(p: Effect, code: RefusalCode, message: string, details?: Record<string, unknown>): ConductorError {
    return new ConductorError(code, message, {
      plugin: this.#plugin,
      intentId: p.intentId,
      stage: 'submit',
      ...(details === undefined ? {} : { details }),
    });
  }

  /** The same id in history: the same effect (its commit back), or with other content a conflict. */
  earlierEffect(p: Effect): Receipt | ConductorError | undefined {
    const known = this.#committed.get(p.intentId);
    if (known === undefined) return undefined;
    // A commit of the older shape records no hash: taken as the same content.
    if (known.contentHash === undefined || p.contentHash === undefined || known.contentHash === p.contentHash) {
      return { sink: this.#plugin, ref: known.commit, reused: true };
    }
    return this.refusal(
      p,
      'CND_ERR_INTENT_CONFLICT',
      `intent ${p.intentId} was already committed with other content in commit ${known.commit}; a correlation_id names one ` +
        'intent: use a new correlation_id for new content',
      { securityEvent: 'intent-conflict', commit: known.commit },
    );
  }

  /** A newer intent for the same target already applied (in history or earlier among the commits being built)? */
  newerThan(p: Effect, building: ReadonlyMap<string, Newest>): ConductorError | undefined {
    const key = targetKey(p.intent);
    const newer = building.get(key) ?? this.#newest.get(key);
    if (newer === undefined || p.order === undefined || newer.order <= p.order) return undefined;
    const where = newer.commit === undefined ? 'in the same commit' : `in commit ${newer.commit}`;
    return this.refusal(
      p,
      'CND_ERR_INTENT_SUPERSEDED',
      `a newer intent for ${key} is already applied: ${newer.intentId} (written ${new Date(newer.order).toISOString()}, this one ` +
        `${new Date(p.order).toISOString()}) ${where}`,
      { newerIntentId: newer.intentId, ...(newer.commit === undefined ? {} : { commit: newer.commit }) },
    );
  }
}
