// What a failed Porch call means, from the real API's error shapes (docs/porch.md §Errors, §Concurrency, §Transport).
// Two questions: can the flow simply look again and carry on (a stale resourceVersion, a lost
// reply, a duplicate create), and if not, what does the core do with the intent — retry it
// (transient), wait as told (throttle), or give up (permanent: failed/ with the server's words).
import { ConductorError, type ErrorCode } from '../../core/index.ts';
import { ApiError, TransportError } from './client.ts';
import { CredentialError } from './auth.ts';
import { DUPLICATE_WORKSPACE, PACKAGE_EXISTS, PERMANENT_500, STALE_RESOURCE_VERSION } from './server-messages.ts';

/**
 * A stale or missing resourceVersion. Porch wraps its own Conflict into a 500 InternalError
 * (docs/porch.md §Stale resourceVersion, a known upstream bug), so the message is what tells; a 409 Conflict that
 * is not the in-flight lock means the same.
 */
export function isStaleResourceVersion(error: unknown): boolean {
  if (!(error instanceof ApiError)) return false;
  if (error.status === 500) return STALE_RESOURCE_VERSION.test(error.serverMessage);
  return error.status === 409 && !isInFlight(error);
}

/** The per-object in-flight lock (docs/porch.md §In-flight lock): someone else is writing it right now. */
export function isInFlight(error: unknown): boolean {
  return error instanceof ApiError && error.status === 409 && /already in progress/.test(error.serverMessage);
}

/** A create for a workspace that exists: an earlier attempt (whose reply was lost) made it
 * (docs/porch.md §Idempotency). */
export function isDuplicateWorkspace(error: unknown): boolean {
  return error instanceof ApiError && error.status === 500 && DUPLICATE_WORKSPACE.test(error.serverMessage);
}

/**
 * The request may or may not have been applied: a 504 Timeout (the apiserver gave up waiting,
 * the write may have gone through), a client timeout, or a connection lost after sending
 * (docs/porch.md §Idempotency, §Timeouts). Only a fresh read can tell.
 */
export function isOutcomeUnknown(error: unknown): boolean {
  if (error instanceof TransportError) return !error.neverSent && error.failure !== 'aborted';
  return error instanceof ApiError && error.status === 504;
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404;
}

/**
 * Current Porch refuses `init` (and `clone`) for a package that already exists (docs/porch.md
 * §Versions, §Sharp edges item 14). It happens when the package has revisions but none is Published to copy.
 */
export function isPackageExists(error: unknown): boolean {
  return error instanceof ApiError && error.status === 500 && PACKAGE_EXISTS.test(error.serverMessage);
}

/** A 422 on a lifecycle step may come from a stale view of the object; it is worth a fresh look. */
export function isInvalid(error: unknown): boolean {
  return error instanceof ApiError && error.status === 422;
}

/** The apiserver's RBAC refusal (docs/porch.md §RBAC), as opposed to Porch's own 403s. */
function isRbacDenial(error: ApiError): boolean {
  return error.status === 403 && /cannot \S+ resource /.test(error.serverMessage);
}

export interface Where {
  plugin: string;
  intentId: string;
  /** The flow step that failed: find, create, write resources, propose, approve. */
  step: string;
}

/** Turns whatever a step threw into the ConductorError the core acts on. */
export function toSubmitError(error: unknown, where: Where): ConductorError {
  const base = { plugin: where.plugin, intentId: where.intentId, stage: 'submit' };
  if (error instanceof ConductorError) {
    error.plugin ??= where.plugin;
    error.intentId ??= where.intentId;
    return error;
  }
  if (error instanceof CredentialError) {
    return new ConductorError('CND_ERR_SUBMIT_TRANSIENT', `${where.step}: ${error.message}`, {
      ...base,
      cause: error,
      details: { step: where.step },
    });
  }
  if (error instanceof TransportError) {
    if (error.failure === 'aborted') return new ConductorError('CND_ERR_SHUTDOWN', `${where.step}: stopping`, { ...base, cause: error });
    return new ConductorError('CND_ERR_SUBMIT_TRANSIENT', `${where.step}: ${error.message}`, {
      ...base,
      cause: error,
      details: { step: where.step, failure: error.failure, ...(error.code === undefined ? {} : { errorCode: error.code }) },
    });
  }
  if (!(error instanceof ApiError)) {
    return new ConductorError('CND_ERR_INTERNAL', `${where.step}: ${error instanceof Error ? error.message : String(error)}`, {
      ...base,
      cause: error,
    });
  }
  const { code, hint } = classify(error);
  const message = `${where.step}: ${error.message}${hint ? ` (${hint})` : ''}`;
  return new ConductorError(code, message, {
    ...base,
    cause: error,
    ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
    details: { step: where.step, status: error.status, ...(error.reason ? { reason: error.reason } : {}) },
  });
}

function classify(error: ApiError): { code: ErrorCode; hint?: string } {
  const status = error.status;
  if (status === 429) return { code: 'CND_ERR_SUBMIT_THROTTLED' };
  if (status === 401)
    return { code: 'CND_ERR_SUBMIT_TRANSIENT', hint: 'the credentials were refused; the intent waits in handoff/ until they are fixed' };
  if (status === 403) {
    return isRbacDenial(error)
      ? {
          code: 'CND_ERR_SUBMIT_TRANSIENT',
          hint: 'the service account lacks a permission; the intent waits in handoff/ until RBAC allows it',
        }
      : { code: 'CND_ERR_SUBMIT_PERMANENT' };
  }
  if (status === 404) {
    // A missing Repository is configuration that no retry fixes; a missing revision vanished
    // between two steps (deleted by someone), and the next attempt looks again.
    return /repositories\.config\.porch\.kpt\.dev/.test(error.serverMessage)
      ? { code: 'CND_ERR_SUBMIT_PERMANENT' }
      : { code: 'CND_ERR_SUBMIT_TRANSIENT' };
  }
  if (status === 409 || status === 408) return { code: 'CND_ERR_SUBMIT_TRANSIENT' };
  if (status >= 400 && status < 500) return { code: 'CND_ERR_SUBMIT_PERMANENT' };
  if (status === 500) {
    if (PERMANENT_500.some((pattern) => pattern.test(error.serverMessage))) return { code: 'CND_ERR_SUBMIT_PERMANENT' };
    if (isPackageExists(error)) {
      return {
        code: 'CND_ERR_SUBMIT_TRANSIENT',
        hint: 'the package has revisions but none Published to copy; the intent waits until an earlier revision is approved or deleted',
      };
    }
  }
  return { code: 'CND_ERR_SUBMIT_TRANSIENT' };
}
