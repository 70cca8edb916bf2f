// Object names and their validation (docs/porch.md §Names, ≥ v4.1 naming scheme).
// Messages mirror apimachinery's validation helpers so that 422/500 texts look like the real ones.

const LABEL_MAX = 63;
const SUBDOMAIN_MAX = 253;
const LABEL_FORMAT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const SUBDOMAIN_FORMAT = `${LABEL_FORMAT}(\\.${LABEL_FORMAT})*`;
const LABEL_RE = new RegExp(`^${LABEL_FORMAT}$`);
const SUBDOMAIN_RE = new RegExp(`^${SUBDOMAIN_FORMAT}$`);

const LABEL_MESSAGE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character " +
  `(e.g. 'my-name',  or '123-abc', regex used for validation is '${LABEL_FORMAT}')`;
const SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character " +
  `(e.g. 'example.com', regex used for validation is '${SUBDOMAIN_FORMAT}')`;

/** validation.IsDNS1123Label: a list of problems, empty when valid. */
export function dns1123LabelErrors(value: string): string[] {
  const errors: string[] = [];
  if (value.length > LABEL_MAX) errors.push(`must be no more than ${LABEL_MAX} characters`);
  if (!LABEL_RE.test(value)) {
    errors.push(SUBDOMAIN_RE.test(value) ? 'must not contain dots' : LABEL_MESSAGE);
  }
  return errors;
}

export function dns1123SubdomainErrors(value: string): string[] {
  const errors: string[] = [];
  if (value.length > SUBDOMAIN_MAX) errors.push(`must be no more than ${SUBDOMAIN_MAX} characters`);
  if (!SUBDOMAIN_RE.test(value)) errors.push(SUBDOMAIN_MESSAGE);
  return errors;
}

/**
 * Porch's directory check used for spec.packageName on create: `//` is refused and the path,
 * with its slashes removed, must be a DNS-1123 label (docs/porch.md §Names).
 * Returns undefined when valid.
 */
export function directoryNameError(directory: string, mandatory: boolean): string | undefined {
  const problems: string[] = [];
  if (directory.includes('//')) problems.push("consecutive '/' characters are not allowed");
  const withoutSlashes = directory.replaceAll('/', '');
  if (mandatory || withoutSlashes.length > 0) problems.push(...dns1123LabelErrors(withoutSlashes));
  return problems.length === 0 ? undefined : problems.join(',');
}

export interface PackageRevisionKey {
  repository: string;
  /** Directory part of the package path ("" at the top level). */
  path: string;
  /** Last segment of the package path. */
  leaf: string;
  workspaceName: string;
}

/** Split "a/b/c" into path "a/b" and leaf "c". */
export function splitPackagePath(packageName: string): { path: string; leaf: string } {
  const cut = packageName.lastIndexOf('/');
  if (cut < 0) return { path: '', leaf: packageName };
  return { path: packageName.slice(0, cut), leaf: packageName.slice(cut + 1) };
}

/** `<repo>.<path with / → .>.<workspace>` (docs/porch.md §Names). */
export function composeRevisionName(repository: string, packageName: string, workspaceName: string): string {
  const dotted = packageName.replaceAll('/', '.').replace(/^\.+|\.+$/g, '');
  return `${repository}.${dotted}.${workspaceName}`;
}

export function composePackageName(repository: string, packageName: string): string {
  const dotted = packageName.replaceAll('/', '.').replace(/^\.+|\.+$/g, '');
  return `${repository}.${dotted}`;
}

/** Checks each part of a revision name the way the engine does before creating (docs/porch.md §Names). */
export function revisionNameProblems(key: PackageRevisionKey): string[] {
  const problems: string[] = [];
  const repoErrors = dns1123LabelErrors(key.repository);
  if (repoErrors.length > 0) {
    problems.push(`repository part "${key.repository}" of object name invalid\n`);
    problems.push(`repository name ${key.repository} invalid: ${repoErrors.join(',')}\n`);
  }
  const pathError = directoryNameError(key.path, false);
  if (pathError !== undefined) {
    problems.push(`package path part "${key.path}" of object name invalid\n`);
    problems.push(`path ${key.path} invalid: ${pathError}\n`);
  }
  const leafErrors = dns1123LabelErrors(key.leaf);
  if (leafErrors.length > 0) {
    problems.push(`package name part "${key.leaf}" of object name invalid\n`);
    problems.push(`package name ${key.leaf} invalid: ${leafErrors.join(',')}\n`);
  }
  const wsErrors = dns1123LabelErrors(key.workspaceName);
  if (wsErrors.length > 0) {
    problems.push(`workspace name part "${key.workspaceName}" of package revision name invalid\n`);
    problems.push(`workspace name ${key.workspaceName} invalid: ${wsErrors.join(',')}\n`);
  }
  if (problems.length === 0) {
    const packageName = key.path === '' ? key.leaf : `${key.path}/${key.leaf}`;
    const name = composeRevisionName(key.repository, packageName, key.workspaceName);
    const nameErrors = dns1123SubdomainErrors(name);
    if (nameErrors.length > 0) {
      problems.push(`package revision kubernetes name "${name}" invalid\n`);
      problems.push(`package revision kubernetes name ${name} invalid: ${nameErrors.join('')}\n`);
    }
  }
  return problems;
}

export function revisionNameError(key: PackageRevisionKey): string | undefined {
  const problems = revisionNameProblems(key);
  return problems.length === 0 ? undefined : `package revision kubernetes resource name invalid:\n${problems.join('')}`;
}

/**
 * Porch's workspace extraction: the last dot-separated segment, except that a trailing
 * `.v1.2`-style suffix is taken whole (a quirk of the real parser, kept for fidelity).
 */
function workspaceOf(name: string): string {
  if (!name.includes('.')) return '';
  if (/\.v[0-9.]*[0-9]$/.test(name)) return name.slice(name.lastIndexOf('.v') + 1);
  return name.slice(name.lastIndexOf('.') + 1);
}

/** Split on "." into [first, middle..., last] like Porch's three-way split. */
function splitInThree(value: string): [string, string, string] {
  const parts = value.split('.');
  if (parts.length === 1) return [parts[0] ?? '', '', ''];
  if (parts.length === 2) return [parts[0] ?? '', '', parts[1] ?? ''];
  return [parts[0] ?? '', parts.slice(1, -1).join('.'), parts[parts.length - 1] ?? ''];
}

export type ParsedName = { ok: true; key: PackageRevisionKey } | { ok: false; error: string };

/**
 * Parse a PackageRevision object name back into its key. A name that does not parse is
 * answered with a bare 500 by GET/PUT/DELETE (docs/porch.md §Errors, §Sharp edges item 13).
 */
export function parseRevisionName(name: string): ParsedName {
  const workspaceName = workspaceOf(name);
  let conditioned = name;
  if (workspaceName.includes('.')) {
    conditioned = name.slice(0, name.length - workspaceName.length) + workspaceName.replaceAll('.', '-');
  }
  const [repository, middle, workspacePart] = splitInThree(conditioned);
  const [, pathDotted, leaf] = splitInThree(`${repository}.${middle}`);
  const key: PackageRevisionKey = {
    repository,
    path: pathDotted.replaceAll('.', '/'),
    leaf,
    workspaceName: workspacePart,
  };
  const error = revisionNameError(key);
  if (error !== undefined) return { ok: false, error };
  return { ok: true, key: { ...key, workspaceName } };
}
