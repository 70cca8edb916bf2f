// What the running app serves, and how to find the Conductor workload and its config in a set.

import { posix } from 'node:path';
import {
  asArray,
  asNumber,
  asObject,
  asString,
  at,
  find,
  isObject,
  nameOf,
  namespaceOf,
  ofKind,
  type JsonObject,
  type KObject,
  type RenderedSet,
} from './objects.ts';

/** The health endpoints the app serves on its health port (contract). */
export const HEALTH_PATHS = { liveness: '/healthz', readiness: '/ready', startup: '/startup' } as const;
export const DEFAULT_HEALTH_PORT = 8080;
export const DEFAULT_METRICS_PORT = 9090;
export const DEFAULT_METRICS_PATH = '/metrics';
/** The arguments the image runs with (its entrypoint is node). */
export const CONTRACT_ARGS = [
  'core/cli/conductor.js',
  'run',
  '--config',
  '/etc/conductor/conductor.config.json',
  '--data-dir',
  '/data',
] as const;

export interface Workload {
  deployment: KObject;
  pod: JsonObject;
  podLabels: Record<string, string>;
  container: JsonObject;
}

/** The Deployment that runs the conductor container. */
export function conductorWorkload(set: RenderedSet): Workload | undefined {
  for (const d of ofKind(set, 'Deployment')) {
    const pod = asObject(at(d, 'spec.template.spec'));
    const container = asArray(pod['containers']).find((c) => at(c, 'name') === 'conductor');
    if (isObject(container)) {
      const podLabels: Record<string, string> = {};
      for (const [k, v] of Object.entries(asObject(at(d, 'spec.template.metadata.labels')))) {
        if (typeof v === 'string') podLabels[k] = v;
      }
      return { deployment: d, pod, podLabels, container };
    }
  }
  return undefined;
}

/** The value following a flag in the container's args (`--config FILE`). */
export function argValue(container: JsonObject, flag: string): string | undefined {
  return argValues(container, flag)[0];
}

/** Every value of a repeatable flag, in order (`--config-patch FILE` …). */
export function argValues(container: JsonObject, flag: string): string[] {
  const args = [...asArray(container['command']), ...asArray(container['args'])].map((a) => asString(a) ?? '');
  const values: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === flag && args[i + 1] !== undefined) values.push(args[i + 1]!);
    else if (arg.startsWith(`${flag}=`)) values.push(arg.slice(flag.length + 1));
  }
  return values;
}

/** RFC 7396, as the app applies `--config-patch` files: objects merge, null deletes, the rest replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value) as JsonObject[string];
  }
  return out;
}

export interface MountedVolume {
  mountPath: string;
  subPath?: string;
  volume: JsonObject;
}

/** The volume mounted at the longest mountPath that contains `path`. */
export function volumeAt(w: Workload, path: string): MountedVolume | undefined {
  let best: MountedVolume | undefined;
  for (const m of asArray(w.container['volumeMounts'])) {
    const mountPath = asString(at(m, 'mountPath'));
    const name = asString(at(m, 'name'));
    if (mountPath === undefined || name === undefined) continue;
    const inside = path === mountPath || path.startsWith(mountPath.endsWith('/') ? mountPath : `${mountPath}/`);
    if (!inside || (best !== undefined && best.mountPath.length >= mountPath.length)) continue;
    const volume = asArray(w.pod['volumes']).find((v) => at(v, 'name') === name);
    if (!isObject(volume)) continue;
    const subPath = asString(at(m, 'subPath'));
    best = subPath === undefined ? { mountPath, volume } : { mountPath, subPath, volume };
  }
  return best;
}

export interface AppConfig {
  /** The ConfigMap holding the config file. */
  configMap: KObject;
  /** The key in the ConfigMap. */
  key: string;
  /** The JSON text of the config the app runs with: the file with the patches applied. */
  text: string;
  /** The parsed config, patches applied. */
  config: JsonObject;
  /** The ConfigMap keys of the `--config-patch` files, in the order the app applies them. */
  patches: string[];
}

/**
 * Follows the conductor container's `--config` path (and each `--config-patch` path) to the
 * ConfigMap key mounted there, parses it and applies the patches in order, as the app does.
 * Returns a reason string when any link of that chain is missing.
 */
export function appConfig(set: RenderedSet): AppConfig | string {
  const w = conductorWorkload(set);
  if (w === undefined) return 'no Deployment runs a container named conductor';
  const path = argValue(w.container, '--config');
  if (path === undefined) return 'the conductor container has no --config argument';
  const main = mountedJson(set, w, path, '--config');
  if (typeof main === 'string') return main;
  let config: unknown = main.value;
  const patches: string[] = [];
  for (const patchPath of argValues(w.container, '--config-patch')) {
    const patch = mountedJson(set, w, patchPath, '--config-patch');
    if (typeof patch === 'string') return patch;
    config = mergePatch(config, patch.value);
    patches.push(patch.key);
  }
  if (!isObject(config)) return 'the patched config is not a JSON object';
  const text = patches.length === 0 ? main.text : `${JSON.stringify(config, null, 2)}\n`;
  return { configMap: main.configMap, key: main.key, text, config, patches };
}

/** The JSON object in the ConfigMap key mounted at `path`, or why it cannot be had. */
function mountedJson(
  set: RenderedSet,
  w: Workload,
  path: string,
  flag: string,
): { configMap: KObject; key: string; text: string; value: JsonObject } | string {
  const mounted = volumeAt(w, path);
  if (mounted === undefined) return `nothing is mounted at the ${flag} path ${path}`;
  const cmName = asString(at(mounted.volume, 'configMap.name'));
  if (cmName === undefined) return `the volume mounted at ${mounted.mountPath} is not a ConfigMap`;
  const key = mounted.subPath ?? posix.relative(mounted.mountPath, path);
  const items = asArray(at(mounted.volume, 'configMap.items'));
  const item = items.find((i) => at(i, 'path') === key);
  const dataKey = items.length > 0 ? asString(at(item, 'key')) : key;
  if (dataKey === undefined) return `ConfigMap volume ${cmName} does not project ${key}`;
  const configMap = find(set, 'ConfigMap', cmName, namespaceOf(w.deployment));
  if (configMap === undefined) return `the mounted ConfigMap ${cmName} is not in the set`;
  const text = asString(asObject(at(configMap, 'data'))[dataKey]);
  if (text === undefined) return `ConfigMap ${nameOf(configMap)} has no key ${dataKey}`;
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (error) {
    return `ConfigMap ${nameOf(configMap)} key ${dataKey} is not JSON: ${(error as Error).message}`;
  }
  if (!isObject(config)) return `ConfigMap ${nameOf(configMap)} key ${dataKey} is not a JSON object`;
  return { configMap, key: dataKey, text, value: config };
}

/** The options of a plugin (by id, or the first instance `id/suffix`), if configured. */
export function pluginOptions(config: JsonObject, id: string): JsonObject | undefined {
  const plugins = asObject(config['plugins']);
  for (const [key, value] of Object.entries(plugins)) {
    if (key === id || key.startsWith(`${id}/`)) return asObject(value);
  }
  return undefined;
}

export function healthPort(config: JsonObject): number {
  return asNumber(pluginOptions(config, 'health')?.['port']) ?? DEFAULT_HEALTH_PORT;
}

export function metricsPort(config: JsonObject): number {
  return asNumber(pluginOptions(config, 'prometheus')?.['port']) ?? DEFAULT_METRICS_PORT;
}

export function metricsPath(config: JsonObject): string {
  return asString(pluginOptions(config, 'prometheus')?.['path']) ?? DEFAULT_METRICS_PATH;
}

/** A container port by name or number → its number. */
export function resolveContainerPort(container: JsonObject, port: unknown): number | undefined {
  if (typeof port === 'number') return port;
  for (const p of asArray(container['ports'])) {
    if (at(p, 'name') === port) return asNumber(at(p, 'containerPort'));
  }
  return undefined;
}

/** Host and port of a URL-ish endpoint ("redis://redis:6379", "http://x:4318"). */
export function endpointOf(url: string): { host: string; port: number } | undefined {
  try {
    const u = new URL(url);
    const defaults: Record<string, number> = { 'http:': 80, 'https:': 443, 'redis:': 6379, 'rediss:': 6379 };
    const port = u.port === '' ? defaults[u.protocol] : Number(u.port);
    return port === undefined ? undefined : { host: u.hostname, port };
  } catch {
    return undefined;
  }
}
