// Watches for I/O while a plugin's factory runs. Factories must do none (docs/architecture.md §Plugin contract):
// `conductor validate` builds every plugin without starting it, and a factory that opens a
// socket or writes a file would do so on every validation, and leak it when start never comes.
//
// What is watched: every call into Node's public `fs` (sync, callback and promise forms),
// `child_process`, `dns` lookups, socket connects, server listens and UDP binds — recorded and
// then performed as usual. Named imports (`import { readFileSync } from 'node:fs'`) see the
// spies through `syncBuiltinESMExports`. Not seen: native add-ons and work a library hands to
// a worker thread, and anything the factory schedules to run after it returns (the handle
// check below catches what such work keeps open).
import childProcess from 'node:child_process';
import dgram from 'node:dgram';
import dns from 'node:dns';
import fs from 'node:fs';
import net from 'node:net';
import { syncBuiltinESMExports } from 'node:module';

export interface IoCall {
  /** The function called, e.g. `fs.readFileSync` or `net.Socket.connect`. */
  what: string;
  /** Its first argument, when that names a path or an address. */
  target?: string;
}

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;
type Owner = Record<string | symbol, unknown>;

let trapping = false;

/** Runs `work` with the spies in place; returns its value and every I/O call seen meanwhile. */
export async function trapIo<T>(work: () => Promise<T>): Promise<{ value: T; calls: IoCall[] }> {
  if (trapping) throw new Error('trapIo does not nest');
  trapping = true;
  const calls: IoCall[] = [];
  let recording = true;
  const restores: (() => void)[] = [];

  const spyOn = (owner: Owner, name: string, label: string) => {
    const descriptor = Object.getOwnPropertyDescriptor(owner, name);
    if (descriptor === undefined || typeof descriptor.value !== 'function' || descriptor.writable !== true) return;
    const original = descriptor.value as AnyFunction;
    const spy = function (this: unknown, ...args: unknown[]) {
      if (recording) calls.push({ what: `${label}.${name}`, ...targetOf(args[0]) });
      return original.apply(this, args);
    };
    // Keep what hangs off the original (fs.realpathSync.native, util.promisify.custom, …).
    for (const key of Reflect.ownKeys(original)) {
      if (key !== 'length' && key !== 'name' && key !== 'prototype') {
        Object.defineProperty(spy, key, Object.getOwnPropertyDescriptor(original, key)!);
      }
    }
    owner[name] = spy;
    restores.push(() => void (owner[name] = original));
  };
  const spyOnAll = (owner: object, label: string, select: (name: string) => boolean) => {
    for (const name of Object.getOwnPropertyNames(owner)) if (/^[a-z]/.test(name) && select(name)) spyOn(owner as Owner, name, label);
  };

  spyOnAll(fs, 'fs', () => true);
  spyOnAll(fs.promises, 'fs.promises', () => true);
  spyOnAll(childProcess, 'child_process', () => true);
  spyOnAll(dns, 'dns', (name) => /^(lookup|resolve|reverse)/.test(name));
  spyOnAll(dns.promises, 'dns.promises', (name) => /^(lookup|resolve|reverse)/.test(name));
  spyOn(net.Socket.prototype as unknown as Owner, 'connect', 'net.Socket');
  spyOn(net.Server.prototype as unknown as Owner, 'listen', 'net.Server');
  spyOn(dgram.Socket.prototype as unknown as Owner, 'bind', 'dgram.Socket');
  spyOn(dgram.Socket.prototype as unknown as Owner, 'send', 'dgram.Socket');
  syncBuiltinESMExports();
  try {
    return { value: await work(), calls };
  } finally {
    recording = false;
    for (const restore of restores.reverse()) restore();
    syncBuiltinESMExports();
    trapping = false;
  }
}

function targetOf(argument: unknown): { target?: string } {
  if (typeof argument === 'string' || typeof argument === 'number' || argument instanceof URL) return { target: String(argument) };
  if (typeof argument === 'object' && argument !== null) {
    const { path, host, port } = argument as { path?: unknown; host?: unknown; port?: unknown };
    if (typeof path === 'string') return { target: path };
    if (port !== undefined) return { target: `${typeof host === 'string' ? host : ''}:${String(port)}` };
  }
  return {};
}

/**
 * The kinds of handle that keep the process alive, counted by kind (`TCPServerWrap`,
 * `TCPSocketWrap`, `Timeout`, `FSEventWrap`, …), to compare before and after a factory runs.
 */
export function activeHandles(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

/** Kinds that grew from `before` to `after`, as `Timeout +1`. */
export function grownHandles(before: Map<string, number>, after: Map<string, number>): string[] {
  const grown: string[] = [];
  for (const [kind, count] of after) {
    const was = before.get(kind) ?? 0;
    if (count > was) grown.push(`${kind} +${count - was}`);
  }
  return grown;
}
