// Raw HTTP for the simulator's own tests: one request, the answer as status, headers and text.
// Deliberately not a Porch client: no retries, no resourceVersion handling, no path building.

import { request } from 'undici';
import type { Dispatcher } from 'undici';

/** Tests read arbitrary server JSON; a loose type keeps the assertions readable. */
// oxlint-disable-next-line typescript/no-explicit-any
export type Json = any;

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** Parsed JSON body, or undefined when the body is not JSON. */
  json: Json;
}

export interface RawOptions {
  body?: unknown;
  token?: string;
  contentType?: string;
  headers?: Record<string, string>;
  dispatcher?: Dispatcher;
}

export async function call(baseUrl: string, method: string, path: string, options: RawOptions = {}): Promise<RawResponse> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] = options.contentType ?? 'application/json';
  }
  const response = await request(`${baseUrl}${path}`, {
    method: method as Dispatcher.HttpMethod,
    headers,
    ...(body === undefined ? {} : { body }),
    ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
  });
  const text = await response.body.text();
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.statusCode, headers: response.headers, text, json };
}

// ---- fixtures shared by the simulator's tests ----

export const NS = 'nephoran';
export const REPO = 'nephoran-packages';
export const TOKEN = 'sim-token';
export const PORCH = `/apis/porch.kpt.dev/v1alpha1/namespaces/${NS}`;
export const FIXED_NOW = new Date('2026-05-02T10:15:04Z');

/** A create body in the shape of docs/porch.md §Creating. */
export function draftBody(
  packageName: string,
  workspaceName: string,
  extra: { labels?: Record<string, string>; tasks?: unknown[] } = {},
): Json {
  return {
    apiVersion: 'porch.kpt.dev/v1alpha1',
    kind: 'PackageRevision',
    metadata: { namespace: NS, ...(extra.labels === undefined ? {} : { labels: extra.labels }) },
    spec: {
      packageName,
      repository: REPO,
      workspaceName,
      lifecycle: 'Draft',
      tasks: extra.tasks ?? [{ type: 'init', init: { description: 'nf-sim scaling intent', keywords: ['nephoran', 'scaling'] } }],
    },
  };
}

/** A copy (edit task) body, as `porchctl rpkg copy` sends it (docs/porch.md §porchctl). */
export function copyBody(packageName: string, workspaceName: string, sourceName: string): Json {
  return {
    apiVersion: 'porch.kpt.dev/v1alpha1',
    kind: 'PackageRevision',
    metadata: { namespace: NS },
    spec: {
      packageName,
      repository: REPO,
      workspaceName,
      tasks: [{ type: 'edit', edit: { sourceRef: { name: sourceName } } }],
    },
  };
}
