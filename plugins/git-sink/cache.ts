// A cache bounded by the bytes it holds, not by its number of entries: one namespace tree of
// 50,000 packages weighs as much as 10,000 small package trees, so an entry count says nothing
// about memory. Least recently used first out (a Map keeps insertion order; a hit re-inserts).
export class ByteCache<V> {
  readonly #limit: number;
  readonly #weigh: (value: V) => number;
  readonly #entries = new Map<string, { value: V; bytes: number }>();
  #bytes = 0;

  constructor(limitBytes: number, weigh: (value: V) => number) {
    this.#limit = limitBytes;
    this.#weigh = weigh;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V): void {
    this.delete(key);
    // Keys are counted too: object ids and paths are a good part of a small entry.
    const bytes = this.#weigh(value) + key.length * 2 + 64;
    if (bytes > this.#limit) return;
    this.#entries.set(key, { value, bytes });
    this.#bytes += bytes;
    this.#evict();
  }

  /**
   * An entry changed in place (a listing that gained a directory) weighs `delta` bytes more, or
   * less: counted, so that the limit holds for what the entries have become, not for what they
   * were when set. One that outgrew the limit alone is dropped.
   */
  resize(key: string, delta: number): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    entry.bytes += delta;
    this.#bytes += delta;
    if (entry.bytes > this.#limit) this.delete(key);
    else this.#evict();
  }

  /** The least recently used go until the entries fit. */
  #evict(): void {
    for (const [oldest, entry] of this.#entries) {
      if (this.#bytes <= this.#limit) break;
      this.#entries.delete(oldest);
      this.#bytes -= entry.bytes;
    }
  }

  delete(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }
}

/** Roughly what a string costs in the heap (two bytes a character at most, plus its header). */
export function stringBytes(text: string): number {
  return text.length * 2 + 16;
}
