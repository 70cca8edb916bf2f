// The sink's reader: one long-lived `git cat-file --batch`, which reads any object — loose or in
// any pack, including the packs fast-import closed after this process started (git looks
// at the pack directory again when an object is not where it looked before).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { holdOpen } from './fast-import.ts';
import { GIT_ENV } from './git.ts';

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

/** One cat-file process with the answers it owes and its unread output (never another's). */
interface Session {
  child: ChildProcessWithoutNullStreams;
  waiting: Waiter[];
  buffer: Buffer;
}

export class ObjectReader {
  readonly #dir: string;
  #session: Session | undefined;

  constructor(dir: string) {
    this.#dir = dir;
  }

  #start(): Session {
    const child = spawn('git', ['cat-file', '--batch'], {
      cwd: this.#dir,
      env: { ...process.env, ...GIT_ENV },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const session: Session = { child, waiting: [], buffer: Buffer.alloc(0) };
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => receive(session, chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = `${stderr}${chunk}`.slice(-2000)));
    child.stdin.on('error', () => undefined);
    const fail = (error: Error) => {
      if (this.#session === session) this.#session = undefined;
      for (const waiter of session.waiting.splice(0)) waiter.reject(error);
    };
    child.on('close', (code, signal) => fail(new Error(`git cat-file ended (${signal ?? code}): ${stderr.trim() || 'no message'}`)));
    child.on('error', fail);
    holdOpen(child, false);
    this.#session = session;
    return session;
  }

  /** The object, or undefined when the repository does not hold it. */
  read(oid: string): Promise<GitObject | undefined> {
    if (!/^[0-9a-f]{40}$/.test(oid)) return Promise.reject(new Error(`not an object id: ${JSON.stringify(oid)}`));
    const session = this.#session ?? this.#start();
    return new Promise((resolve, reject) => {
      session.waiting.push({ resolve, reject });
      holdOpen(session.child, true);
      session.child.stdin.write(`${oid}\n`);
    });
  }

  async readTree(oid: string): Promise<TreeEntry[]> {
    const object = await this.read(oid);
    if (object?.type !== 'tree') throw new Error(`${oid} is ${object === undefined ? 'missing' : `a ${object.type}`}, not a tree`);
    return parseTree(object.content);
  }

  /** Ends the process (it is started again when next needed); what it still owes is answered first. */
  close(): void {
    this.#session?.child.stdin.end();
    this.#session = undefined;
  }
}

/** Answers are `<oid> <type> <size>\n<content>\n` or `<oid> missing\n`, in request order. */
function receive(session: Session, chunk: Buffer): void {
  session.buffer = session.buffer.length === 0 ? chunk : Buffer.concat([session.buffer, chunk]);
  for (;;) {
    const newline = session.buffer.indexOf(10);
    if (newline === -1) return;
    const header = session.buffer.subarray(0, newline).toString('latin1').split(' ');
    if (header[1] === 'missing' || header.length < 3) {
      session.buffer = session.buffer.subarray(newline + 1);
      settle(session, undefined);
      continue;
    }
    const size = Number(header[2]);
    if (session.buffer.length < newline + 1 + size + 1) return;
    // A copy: the answer may be kept in a cache, and must not hold the whole chunk alive.
    const content = Buffer.from(session.buffer.subarray(newline + 1, newline + 1 + size));
    session.buffer = session.buffer.subarray(newline + 1 + size + 1);
    settle(session, { type: header[1] as GitObject['type'], content });
  }
}

function settle(session: Session, object: GitObject | undefined): void {
  session.waiting.shift()?.resolve(object);
  if (session.waiting.length === 0) holdOpen(session.child, false);
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
