// Every intent id in history with the commit that applied it and its content hash, kept compact:
// the index holds all of history (a duplicate or a conflict must be found with an empty ledger),
// so its cost per intent decides the sink's memory over a long life. An id, a content hash and
// a commit id are hex digests; held as JavaScript strings in a Map they cost about 300 bytes an
// intent, held as bytes in a flat record store behind an open-addressing table about 60 — and
// off the JavaScript heap, which the garbage collector then never walks. Ids are compared in
// full (no fingerprint, nothing to verify against git afterwards). Anything that is not a
// lowercase 40-digit hex digest — ids written by hand in old history, other hash lengths — goes
// to a plain Map beside it, so every id is kept exactly as history wrote it.

import { detached } from './detached.ts';

/** What history records for an intent id. */
export interface CommittedEffect {
  commit: string;
  contentHash: string | undefined;
}

const DIGEST_BYTES = 20;
const HEX_DIGEST = /^[0-9a-f]{40}$/;
/** A record: id (20 bytes), content hash (20), commit number (uint32), flags (1), padding. */
const RECORD_BYTES = 48;
const CONTENT_AT = 20;
const COMMIT_AT = 40;
const FLAGS_AT = 44;
const HAS_CONTENT = 1;
const INITIAL_RECORDS = 1024;

export class EffectIndex {
  #records = Buffer.alloc(INITIAL_RECORDS * RECORD_BYTES);
  #count = 0;
  /** Open addressing, linear probing: record number + 1 per slot, 0 when empty; at most half full. */
  #slots = new Int32Array(INITIAL_RECORDS * 2);
  #commits = Buffer.alloc(256 * DIGEST_BYTES);
  #commitCount = 0;
  /** The last commit added, and its number: a grouped commit adds many ids of one commit in a row. */
  #lastCommit: { hex: string; number: number } | undefined;
  readonly #other = new Map<string, CommittedEffect>();
  readonly #probe = Buffer.alloc(DIGEST_BYTES);

  get size(): number {
    return this.#count + this.#other.size;
  }

  get(id: string): CommittedEffect | undefined {
    const record = HEX_DIGEST.test(id) ? this.#find(id) : -1;
    if (record < 0) return this.#other.get(id);
    const at = record * RECORD_BYTES;
    const commitAt = this.#records.readUInt32LE(at + COMMIT_AT) * DIGEST_BYTES;
    const hasContent = (this.#records[at + FLAGS_AT]! & HAS_CONTENT) !== 0;
    return {
      commit: this.#commits.toString('hex', commitAt, commitAt + DIGEST_BYTES),
      contentHash: hasContent ? this.#records.toString('hex', at + CONTENT_AT, at + COMMIT_AT) : undefined,
    };
  }

  /** Records `id` unless it is known already (the first record of an id is the one kept). */
  addIfAbsent(id: string, commit: string, contentHash: string | undefined): void {
    const hexId = HEX_DIGEST.test(id);
    if (this.#other.has(id) || (hexId && this.#find(id) >= 0)) return;
    if (!hexId || !HEX_DIGEST.test(commit) || (contentHash !== undefined && !HEX_DIGEST.test(contentHash))) {
      this.#other.set(detached(id), {
        commit: detached(commit),
        contentHash: contentHash === undefined ? undefined : detached(contentHash),
      });
      return;
    }
    if ((this.#count + 1) * 2 > this.#slots.length) this.#rehash(this.#slots.length * 2);
    if ((this.#count + 1) * RECORD_BYTES > this.#records.length) this.#records = grown(this.#records, this.#records.length * 2);
    const at = this.#count * RECORD_BYTES;
    this.#records.write(id, at, DIGEST_BYTES, 'hex');
    if (contentHash !== undefined) this.#records.write(contentHash, at + CONTENT_AT, DIGEST_BYTES, 'hex');
    this.#records.writeUInt32LE(this.#commitNumber(commit), at + COMMIT_AT);
    this.#records[at + FLAGS_AT] = contentHash === undefined ? 0 : HAS_CONTENT;
    this.#place(this.#count);
    this.#count += 1;
  }

  #commitNumber(commit: string): number {
    if (this.#lastCommit?.hex === commit) return this.#lastCommit.number;
    if ((this.#commitCount + 1) * DIGEST_BYTES > this.#commits.length) this.#commits = grown(this.#commits, this.#commits.length * 2);
    this.#commits.write(commit, this.#commitCount * DIGEST_BYTES, DIGEST_BYTES, 'hex');
    this.#lastCommit = { hex: commit, number: this.#commitCount };
    this.#commitCount += 1;
    return this.#lastCommit.number;
  }

  /** The record number of a hex id, or -1. */
  #find(id: string): number {
    this.#probe.write(id, 0, DIGEST_BYTES, 'hex');
    const mask = this.#slots.length - 1;
    for (let slot = this.#probe.readUInt32LE(0) & mask; ; slot = (slot + 1) & mask) {
      const entry = this.#slots[slot]!;
      if (entry === 0) return -1;
      const at = (entry - 1) * RECORD_BYTES;
      if (this.#probe.compare(this.#records, at, at + DIGEST_BYTES) === 0) return entry - 1;
    }
  }

  /** Puts a record in the first free slot from its id's home slot (ids are digests: their first bytes spread well). */
  #place(record: number): void {
    const mask = this.#slots.length - 1;
    let slot = this.#records.readUInt32LE(record * RECORD_BYTES) & mask;
    while (this.#slots[slot] !== 0) slot = (slot + 1) & mask;
    this.#slots[slot] = record + 1;
  }

  #rehash(size: number): void {
    this.#slots = new Int32Array(size);
    for (let record = 0; record < this.#count; record += 1) this.#place(record);
  }
}

function grown(buffer: Buffer, size: number): Buffer<ArrayBuffer> {
  const next = Buffer.alloc(size);
  buffer.copy(next);
  return next;
}
