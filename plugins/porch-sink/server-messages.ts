// Porch's 500 InternalError carries several distinct meanings that only its message tells apart
// (docs/porch.md §Errors, §Stale resourceVersion, §Idempotency, §Sharp edges item 14). errors.ts turns them into flow
// decisions; the client must not repeat a write that got one of them (the answer would be the same), so both
// read them from here.

/** Porch wraps a stale or missing resourceVersion into a 500 (a known upstream bug,
 * docs/porch.md §Stale resourceVersion). */
export const STALE_RESOURCE_VERSION = /the object has been modified|resourceVersion must be specified/;

/** A create for a workspace that exists: an earlier attempt made it (docs/porch.md §Idempotency). */
export const DUPLICATE_WORKSPACE = /workspaceNames must be unique/;

/** init/clone of a package that exists (§Versions, §Sharp edges item 14). */
export const PACKAGE_EXISTS = /already exists in repo(sitory)? "/;

/** The package content or our request is wrong: no retry can fix these. */
export const PERMANENT_500 = [
  /error rendering package/,
  /packages cannot be nested/,
  /task list must not contain more than one task/,
  /not set for task of type/,
];

/** A 500 whose message means something to the flow or the error classifier. */
export function hasKnownMeaning(message: string): boolean {
  return (
    STALE_RESOURCE_VERSION.test(message) ||
    DUPLICATE_WORKSPACE.test(message) ||
    PACKAGE_EXISTS.test(message) ||
    PERMANENT_500.some((p) => p.test(message))
  );
}
