// The app's own validator on a rendered config: `conductor validate --config <file>`.

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finding, type Finding, type RenderedSet } from './objects.ts';
import { REPO_ROOT } from './render.ts';
import { appConfig } from './app.ts';

export const CLI = join(REPO_ROOT, 'core', 'cli', 'conductor.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with this Node (24, which strips the TypeScript types itself). */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr: error !== null && typeof error.code !== 'number' ? `${stderr}${error.message}` : stderr });
    });
  });
}

/** `conductor validate --config <file>` on the config text, written to a temporary file. */
export async function validateConfigText(text: string, fileName = 'conductor.config.json'): Promise<CliResult> {
  const dir = await mkdtemp(join(tmpdir(), 'conductor-config-'));
  try {
    const file = join(dir, fileName);
    await writeFile(file, text);
    return await runCli(['validate', '--config', file]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The ConfigMap's config passes the app's validator (exit 0). */
export async function checkConfigValidates(set: RenderedSet): Promise<Finding[]> {
  const cfg = appConfig(set);
  if (typeof cfg === 'string') return [{ object: set.name, message: cfg }];
  const result = await validateConfigText(cfg.text, cfg.key);
  if (result.code === 0) return [];
  return [finding(cfg.configMap, `conductor validate exited ${result.code}: ${(result.stderr || result.stdout).trim()}`)];
}
