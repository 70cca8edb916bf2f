// The app's own validator on a rendered config: `conductor validate --config <file>`.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliResult } from '../../support/cli.ts';
import { finding, type Finding, type RenderedSet } from './objects.ts';
import { appConfig } from './app.ts';

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
