// Damaging archives on purpose: find a member's bytes inside the (decompressed) tar and flip
// one of them, or flip a byte of the compressed file itself.
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';

const BLOCK = 512;

/** Each member's name and where its content starts and ends in the uncompressed tar. */
export function membersOf(tar: Buffer): { path: string; start: number; size: number }[] {
  const members: { path: string; start: number; size: number }[] = [];
  let paxPath: string | undefined;
  for (let offset = 0; offset + BLOCK <= tar.length;) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) break;
    const text = (from: number, length: number) => header.toString('utf8', from, from + length).replace(/\0.*$/s, '');
    const size = Number.parseInt(text(124, 12).trim() || '0', 8);
    const type = text(156, 1);
    const start = offset + BLOCK;
    if (type === 'x') {
      paxPath = /\d+ path=([^\n]*)\n/.exec(tar.toString('utf8', start, start + size))?.[1];
    } else {
      const prefix = text(345, 155);
      members.push({ path: paxPath ?? (prefix ? `${prefix}/${text(0, 100)}` : text(0, 100)), start, size });
      paxPath = undefined;
    }
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  return members;
}

/** Flips one byte in the middle of a member's content and writes the archive to `to`. */
export function flipByteInMember(from: string, to: string, member: string): void {
  const tar = gunzipSync(readFileSync(from));
  const found = membersOf(tar).find((m) => m.path === member);
  if (found === undefined || found.size === 0) throw new Error(`no member ${member} with content in ${from}`);
  const at = found.start + Math.floor(found.size / 2);
  tar[at] = tar[at]! ^ 0x01;
  writeFileSync(to, gzipSync(tar));
}

/** Flips one byte of the compressed file at `fraction` of its length. */
export function flipByteInFile(from: string, to: string, fraction: number): void {
  const bytes = readFileSync(from);
  const at = Math.floor(bytes.length * fraction);
  bytes[at] = bytes[at]! ^ 0x01;
  writeFileSync(to, bytes);
}
