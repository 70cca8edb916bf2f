// Config patches (`--config-patch FILE`, repeatable): JSON Merge Patches (RFC 7396) applied in
// order on the loaded config. They let each part of a deployment carry only its own change —
// a kustomize component adds its patch file to the ConfigMap and its flag to the arguments —
// instead of every overlay holding a full copy of the config: objects merge, null removes a
// key (a plugin, say), anything else replaces.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConductorError } from '../errors.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/**
 * RFC 7396 on a config that may hold more than JSON (a TypeScript config's plugin objects):
 * only plain objects are merged into; everything else the patch touches is replaced.
 */
export function mergePatch(target: unknown, patch: Json): unknown {
  if (!isPlainObject(patch)) return patch;
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/** Reads the patch files (relative to `cwd`) and applies them in order. */
export async function applyConfigPatches(config: unknown, files: readonly string[], cwd = process.cwd()): Promise<unknown> {
  let result = config;
  for (const file of files) {
    const path = resolve(cwd, file);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new ConductorError(
        code === 'ENOENT' ? 'CND_ERR_CONFIG_NOT_FOUND' : 'CND_ERR_CONFIG_LOAD',
        `config patch ${path}: ${(error as Error).message}`,
        {
          path,
          cause: error,
        },
      );
    }
    let patch: Json;
    try {
      patch = JSON.parse(text) as Json;
    } catch (error) {
      throw new ConductorError('CND_ERR_CONFIG_LOAD', `config patch ${path} is not JSON: ${(error as Error).message}`, {
        path,
        cause: error,
      });
    }
    if (!isPlainObject(patch)) {
      throw new ConductorError('CND_ERR_CONFIG_LOAD', `config patch ${path} must be a JSON object (a JSON Merge Patch of the config)`, {
        path,
      });
    }
    result = mergePatch(result, patch);
  }
  return result;
}
