// The request/response values that handlers see, independent of node:http.

import type { IncomingHttpHeaders } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { badRequest, unsupportedMediaType } from './k8s-status.ts';

export interface SimRequest {
  method: string;
  /** Decoded path, without query. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Media type of the body, without parameters, lower-cased ("" when absent). */
  contentType: string;
  rawBody: Buffer;
}

export interface SimResponse {
  status: number;
  /** A JSON value, or a string sent as text/plain. */
  body: unknown;
  headers?: Record<string, string | string[]>;
}

export function jsonResponse(status: number, body: unknown, headers?: Record<string, string | string[]>): SimResponse {
  return headers === undefined ? { status, body } : { status, body, headers };
}

export function mediaType(header: string | undefined): string {
  if (header === undefined) return '';
  return (header.split(';')[0] ?? '').trim().toLowerCase();
}

/**
 * Parse the body. JSON is the normal case (docs/porch.md §Content types); YAML is accepted as
 * the apiserver accepts it. A missing Content-Type is treated as JSON.
 */
export function parseBody(request: SimRequest): unknown {
  const text = request.rawBody.toString('utf8');
  const type = request.contentType;
  if (type !== '' && type !== 'application/json' && !type.endsWith('+json') && type !== 'application/yaml') {
    throw unsupportedMediaType(type, ['application/json', 'application/yaml']);
  }
  if (request.contentType === 'application/yaml' || request.contentType === 'application/apply-patch+yaml') {
    try {
      return parseYaml(text) as unknown;
    } catch (error) {
      throw badRequest(`couldn't get version/kind; yaml parse error: ${(error as Error).message}`);
    }
  }
  if (text.trim() === '') throw badRequest("couldn't get version/kind; json parse error: unexpected end of JSON input");
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(error as Error).message}`);
  }
}

/** Warning headers for dropped unknown fields (the apiserver's default fieldValidation=Warn). */
export function unknownFieldWarnings(fields: string[]): Record<string, string[]> | undefined {
  if (fields.length === 0) return undefined;
  return { Warning: fields.map((f) => `299 - "unknown field \\"${f}\\""`) };
}
