// Kubernetes `Status` error envelopes, in the shapes apimachinery's constructors produce
// (docs/porch.md §Errors). Key order follows the Go struct order so the JSON matches byte for byte.

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export interface GroupResource {
  group: string;
  resource: string;
}

export const PACKAGE_REVISIONS: GroupResource = { group: 'porch.kpt.dev', resource: 'packagerevisions' };
export const PACKAGE_REVISION_RESOURCES: GroupResource = { group: 'porch.kpt.dev', resource: 'packagerevisionresources' };
export const PACKAGES: GroupResource = { group: 'porch.kpt.dev', resource: 'packages' };
export const REPOSITORIES: GroupResource = { group: 'config.porch.kpt.dev', resource: 'repositories' };

/** An error that the dispatcher turns into a `Status` response. */
export class ApiError extends Error {
  readonly status: KubeStatus;
  readonly headers: Record<string, string>;

  constructor(status: KubeStatus, headers: Record<string, string> = {}) {
    super(status.message);
    this.name = 'ApiError';
    this.status = status;
    this.headers = headers;
  }
}

function qualified(gr: GroupResource): string {
  return gr.group === '' ? gr.resource : `${gr.resource}.${gr.group}`;
}

function status(code: number, message: string, reason: string | undefined, details?: StatusDetails): KubeStatus {
  // Go field order: kind, apiVersion, metadata, status, message, reason, details, code.
  const body = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message } as KubeStatus;
  if (reason !== undefined && reason !== '') body.reason = reason;
  if (details !== undefined) body.details = details;
  body.code = code;
  return body;
}

function detailsFor(gr: GroupResource, name: string): StatusDetails {
  const details: StatusDetails = {};
  if (name !== '') details.name = name;
  details.group = gr.group;
  details.kind = gr.resource;
  return details;
}

export function notFound(gr: GroupResource, name: string): ApiError {
  return new ApiError(status(404, `${qualified(gr)} "${name}" not found`, 'NotFound', detailsFor(gr, name)));
}

export function badRequest(message: string): ApiError {
  return new ApiError(status(400, message, 'BadRequest'));
}

export function conflict(gr: GroupResource, name: string, why: string): ApiError {
  return new ApiError(status(409, `Operation cannot be fulfilled on ${qualified(gr)} "${name}": ${why}`, 'Conflict', detailsFor(gr, name)));
}

export function forbidden(gr: GroupResource, name: string, why: string): ApiError {
  const subject = name === '' ? qualified(gr) : `${qualified(gr)} "${name}"`;
  return new ApiError(status(403, `${subject} is forbidden: ${why}`, 'Forbidden', detailsFor(gr, name)));
}

/** apierrors.NewInternalError: the engine wraps nearly every failure in this (docs/porch.md §Stale resourceVersion). */
export function internalError(why: string): ApiError {
  return new ApiError(status(500, `Internal error occurred: ${why}`, 'InternalError', { causes: [{ message: why }] }));
}

/**
 * A plain Go error that reached the generic handler: 500 with no reason and no details
 * (docs/porch.md §Errors, "GET with a malformed name"). `reason` is omitempty in Go, so it is absent.
 */
export function unknownServerError(message: string): ApiError {
  return new ApiError(status(500, message, undefined));
}

export function methodNotSupported(gr: GroupResource, action: string): ApiError {
  return new ApiError(
    status(405, `${action} is not supported on resources of kind "${qualified(gr)}"`, 'MethodNotAllowed', {
      group: gr.group,
      kind: gr.resource,
    }),
  );
}

/** The generic apiserver's answer to a verb the resource does not implement. */
export function methodNotAllowed(): ApiError {
  return new ApiError(status(405, 'the server does not allow this method on the requested resource', 'MethodNotAllowed', {}));
}

/** A 422 without field causes (e.g. a failed JSON-patch `test`). */
export function unprocessable(message: string): ApiError {
  return new ApiError(status(422, message, 'Invalid'));
}

export function gone(message: string): ApiError {
  return new ApiError(status(410, message, 'Gone'));
}

export function unauthorized(): ApiError {
  return new ApiError(status(401, 'Unauthorized', 'Unauthorized'));
}

export function pathNotFound(): ApiError {
  return new ApiError(status(404, 'the server could not find the requested resource', 'NotFound', {}));
}

export function requestEntityTooLarge(limit: number): ApiError {
  return new ApiError(status(413, `Request entity too large: limit is ${limit}`, 'RequestEntityTooLarge'));
}

export function unsupportedMediaType(contentType: string, accepted: string[]): ApiError {
  return new ApiError(
    status(
      415,
      `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
      'UnsupportedMediaType',
      { causes: [{ reason: 'UnexpectedServerResponse', message: contentType }] },
    ),
  );
}

/** The apiserver timeout filter's 504 (docs/porch.md §Timeouts, §Simulator endpoints item 12). */
export function gatewayTimeout(): KubeStatus {
  return status(504, 'Timeout: request did not complete within requested timeout - context deadline exceeded', 'Timeout', {});
}

// ---- field errors (k8s.io/apimachinery/pkg/util/validation/field) ----

export type FieldErrorType = 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired';

export interface FieldError {
  type: FieldErrorType;
  field: string;
  /** Already rendered bad value (Go formatting), only for FieldValueInvalid. */
  renderedValue?: string;
  detail: string;
}

/** Go's formatting of a bad value in field.Invalid: strings quoted, numbers and bools bare. */
export function renderBadValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

export function fieldInvalid(field: string, value: unknown, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field, renderedValue: renderBadValue(value), detail };
}

export function fieldForbidden(field: string, detail: string): FieldError {
  return { type: 'FieldValueForbidden', field, detail };
}

function errorBody(error: FieldError): string {
  switch (error.type) {
    case 'FieldValueInvalid':
      return `Invalid value: ${error.renderedValue ?? '""'}: ${error.detail}`;
    case 'FieldValueForbidden':
      return `Forbidden: ${error.detail}`;
    case 'FieldValueRequired':
      return `Required value: ${error.detail}`;
  }
}

/** apierrors.NewInvalid: 422 with one cause per field error; several errors are aggregated as "[a, b]". */
export function invalid(group: string, kind: string, name: string, errors: FieldError[]): ApiError {
  const rendered = errors.map((e) => `${e.field}: ${errorBody(e)}`);
  const aggregate = rendered.length === 1 ? (rendered[0] ?? '') : `[${rendered.join(', ')}]`;
  const qualifiedKind = group === '' ? kind : `${kind}.${group}`;
  return new ApiError(
    status(422, `${qualifiedKind} "${name}" is invalid: ${aggregate}`, 'Invalid', {
      ...(name === '' ? {} : { name }),
      group,
      kind,
      causes: errors.map((e) => ({ reason: e.type, message: errorBody(e), field: e.field })),
    }),
  );
}
