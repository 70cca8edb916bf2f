// The sink's reader: one long-lived `git cat-file --batch`, which reads any object — loose or in
// any pack, including the packs fast-import closed after this process started (git looks
// at the pack directory again when an object is not where it looked before).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { GIT_ENV, holdOpen } from './fast-import.ts';

export interface GitObject {
  type: 'blob' | 'tree' | 'commit' | 'tag';
  content: Buffer;
}

/** A tree entry as git stores it; a directory's mode is written 40000 and read back as 040000. */
export interface TreeEntry {
  mode: '100644' | '100755' | '040000' | '120000' | '160000';
  path: string;
  oid: string;
}

interface Waiter {
  resolve(object: GitObject | undefined): void;
  reject(error: Error): void;
}

export class ObjectReader {
  readonly #dir: string;
  #child: ChildProcessWithoutNullStreams | undefined;
  #buffer: Buffer = Buffer.alloc(0);
  readonly #waiting: Waiter[] = [];

  constructor(dir: string) {
    this.#dir = dir;
  }

  #start(): ChildProcessWithoutNullStreams {
    const child = spawn('git', ['cat-file', '--batch'], {
      cwd: this.#dir,
      env: { ...process.env, ...GIT_ENV },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    this.#buffer = Buffer.alloc(0);
    child.stdout.on('data', (chunk: Buffer) => this.#receive(chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = `${stderr}${chunk}`.slice(-2000)));
    child.stdin.on('error', () => undefined);
    const fail = (error: Error) => {
      if (this.#child === child) this.#child = undefined;
      for (const waiter of this.#waiting.splice(0)) waiter.reject(error);
    };
    child.on('close', (code, signal) =>
      fail(new Error(`git cat-file ended (${signal ?? code}): ${stderr.trim() || 'no message'}`)),
    );
    child.on('error', fail);
    holdOpen(child, false);
    this.#child = child;
    return child;
  }

  /** Answers are `<oid> <type> <size>\n<content>\n` or `<oid> missing\n`, in request order. */
  #receive(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const newline = this.#buffer.indexOf(10);
      if (newline === -1) return;
      const header = this.#buffer.subarray(0, newline).toString('latin1').split(' ');
      if (header[1] === 'missing' || header.length < 3) {
        this.#buffer = this.#buffer.subarray(newline + 1);
        this.#waiting.shift()?.resolve(undefined);
        if (this.#waiting.length === 0 && this.#child !== undefined) holdOpen(this.#child, false);
        continue;
      }
      const size = Number(header[2]);
      if (this.#buffer.length < newline + 1 + size + 1) return;
      // A copy: the answer may be kept in a cache, and must not hold the whole chunk alive.
      const content = Buffer.from(this.#buffer.subarray(newline + 1, newline + 1 + size));
      this.#buffer = this.#buffer.subarray(newline + 1 + size + 1);
      this.#waiting.shift()?.resolve({ type: header[1] as GitObject['type'], content });
      if (this.#waiting.length === 0 && this.#child !== undefined) holdOpen(this.#child, false);
    }
  }

  /** The object, or undefined when the repository does not hold it. */
  read(oid: string): Promise<GitObject | undefined> {
    if (!/^[0-9a-f]{40}$/.test(oid)) return Promise.reject(new Error(`not an object id: ${JSON.stringify(oid)}`));
    const child = this.#child ?? this.#start();
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      holdOpen(child, true);
      child.stdin.write(`${oid}\n`);
    });
  }

  async readTree(oid: string): Promise<TreeEntry[]> {
    const object = await this.read(oid);
    if (object?.type !== 'tree')
      throw new Error(`${oid} is ${object === undefined ? 'missing' : `a ${object.type}`}, not a tree`);
    return parseTree(object.content);
  }

  /** Ends the process (it is started again when next needed). */
  close(): void {
    this.#child?.stdin.end();
    this.#child = undefined;
  }
}

export function parseTree(content: Buffer): TreeEntry[] {
  const entries: TreeEntry[] = [];
  for (let at = 0; at < content.length;) {
    const space = content.indexOf(32, at);
    const nul = content.indexOf(0, space);
    const mode = content.toString('latin1', at, space);
    entries.push({
      mode: (mode === '40000' ? '040000' : mode) as TreeEntry['mode'],
      path: content.toString('utf8', space + 1, nul),
      oid: content.toString('hex', nul + 1, nul + 21),
    });
    at = nul + 21;
  }
  return entries;
}

/** A commit's tree, parents and message, from its raw text. */
export function parseCommit(content: Buffer): { tree: string; parents: string[]; message: string } {
  const text = content.toString('utf8');
  const end = text.indexOf('\n\n');
  const headers = text.slice(0, end === -1 ? text.length : end).split('\n');
  const tree = headers.find((h) => h.startsWith('tree '))?.slice(5) ?? '';
  const parents = headers.filter((h) => h.startsWith('parent ')).map((h) => h.slice(7));
  return { tree, parents, message: end === -1 ? '' : text.slice(end + 2) };
}
