// Each component carries config-merge-patch.json: the change (RFC 7396 JSON Merge Patch) the
// config needs when that component is enabled, which the component itself applies (a ConfigMap
// key and a --config-patch argument). Composing them onto the base config gives the config of
// any combination; an overlay adds at most its own small patch, never a full copy.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isObject, type Json, type JsonObject } from './objects.ts';
import { BASE_DIR, COMPONENTS_DIR, KUSTOMIZE_DIR, OVERLAYS_DIR } from './render.ts';
import { parse } from 'yaml';

export const CONFIG_FILE = 'conductor.config.json';
export const CONFIG_PATCH_FILE = 'config-merge-patch.json';

/** RFC 7396: objects merge recursively, null deletes, anything else replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const out: JsonObject = isObject(target) ? structuredClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key] ?? null, value);
  }
  return out;
}

async function readJson(file: string): Promise<Json> {
  return JSON.parse(await readFile(file, 'utf8')) as Json;
}

export async function baseConfig(): Promise<JsonObject> {
  const config = await readJson(join(BASE_DIR, CONFIG_FILE));
  if (!isObject(config)) throw new Error('the base config is not a JSON object');
  return config;
}

/** The base config with the merge patches of the given components applied, in order. */
export async function composeConfig(components: readonly string[]): Promise<JsonObject> {
  let config: Json = await baseConfig();
  for (const c of components) {
    const file = join(COMPONENTS_DIR, c, CONFIG_PATCH_FILE);
    if (!existsSync(file)) throw new Error(`component ${c} has no ${CONFIG_PATCH_FILE}`);
    config = mergePatch(config, await readJson(file));
  }
  if (!isObject(config)) throw new Error('the composed config is not a JSON object');
  return config;
}

/** The components an overlay's kustomization.yaml lists (by directory name). */
export async function overlayComponents(overlay: string): Promise<string[]> {
  const k: unknown = parse(await readFile(join(OVERLAYS_DIR, overlay, 'kustomization.yaml'), 'utf8'));
  const list = isObject(k) && Array.isArray(k['components']) ? k['components'] : [];
  return list.map((c) => {
    const path = String(c);
    const prefix = '../../components/';
    if (!path.startsWith(prefix)) throw new Error(`overlay ${overlay}: component ${path} is not under ${KUSTOMIZE_DIR}/components`);
    return path.slice(prefix.length).replace(/\/$/, '');
  });
}

/** The file an overlay patches the config with (after its components'), if it has one. */
export const OVERLAY_PATCH_FILE = 'config-patch.json';

/** An overlay's config: the base, its components' patches, then its own patch, as the app applies them. */
export async function overlayConfig(overlay: string): Promise<JsonObject> {
  if (existsSync(join(OVERLAYS_DIR, overlay, CONFIG_FILE)))
    throw new Error(`overlay ${overlay} holds a full copy of the config; patch it instead`);
  let config: Json = await composeConfig(await overlayComponents(overlay));
  const own = join(OVERLAYS_DIR, overlay, OVERLAY_PATCH_FILE);
  if (existsSync(own)) config = mergePatch(config, await readJson(own));
  if (!isObject(config)) throw new Error(`overlay ${overlay}: config is not a JSON object`);
  return config;
}
