// Spawning measurements: in a fresh Node process (so each run has its own heap and JIT, and
// --cpu-prof can be added), and the real CLI.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT, scratch } from './config.ts';

const CHILD_MAIN = fileURLToPath(new URL('./child-main.ts', import.meta.url));

/** Where --profile puts the .cpuprofile files (undefined: no profiling). */
let profileDir: string | undefined;

export function setProfileDir(dir: string | undefined): void {
  profileDir = dir;
  if (dir !== undefined) mkdirSync(dir, { recursive: true });
}

export function profileArgs(label: string): string[] {
  if (profileDir === undefined) return [];
  return ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${label}-${Date.now()}.cpuprofile`];
}

/**
 * Runs `module`'s exported `name(args)` in a new Node process and returns its JSON result.
 * `label` names the profile when profiling.
 */
export async function inChild<T>(module: string, name: string, args: unknown, label: string, timeoutMs = 300_000): Promise<T> {
  const dir = scratch('result');
  const resultPath = join(dir.dir, 'result.json');
  try {
    const child = spawn(process.execPath, [...profileArgs(label), CHILD_MAIN, module, name, JSON.stringify(args), resultPath], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    const { code, stderr } = await waitFor(child, timeoutMs);
    if (code !== 0) throw new Error(`${label}: measurement process exited ${String(code)}: ${stderr.slice(-2000)}`);
    return JSON.parse(readFileSync(resultPath, 'utf8')) as T;
  } finally {
    dir.remove();
  }
}

export function waitFor(child: ChildProcess, timeoutMs: number): Promise<{ code: number | null; stderr: string; stdout: string }> {
  let stderr = '';
  let stdout = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout = (stdout + chunk).slice(-20_000);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out after ${timeoutMs} ms: ${stderr.slice(-2000)}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    });
  });
}

/** VmRSS / VmHWM of a live process, in MiB (from /proc; undefined once it exited). */
export function memoryOf(pid: number): { rssMiB: number; hwmMiB: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}
