// Field and label selectors of the list endpoints (docs/porch.md §Listing,
// §Simulator endpoints item 4, §Sharp edges item 11).

import { badRequest, unknownServerError } from './k8s-status.ts';
import { parseRevisionName } from './naming.ts';
import { isLifecycle } from './types.ts';
import type { Lifecycle } from './types.ts';

export interface FieldTerm {
  field: string;
  operator: '=' | '==' | '!=';
  value: string;
}

/** Split on separators that are not escaped with a backslash. */
function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] ?? '';
    if (ch === '\\' && i + 1 < text.length) {
      current += ch + (text[i + 1] ?? '');
      i++;
    } else if (ch === separator) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

function unescape(text: string): string {
  return text.replace(/\\(.)/g, '$1');
}

/** fields.ParseSelector: comma-separated terms with `!=`, `==` or `=`. */
export function parseFieldSelector(raw: string): FieldTerm[] {
  if (raw.trim() === '') return [];
  const terms: FieldTerm[] = [];
  for (const term of splitUnescaped(raw, ',')) {
    let matched = false;
    for (const operator of ['!=', '==', '='] as const) {
      const at = findUnescaped(term, operator);
      if (at >= 0) {
        terms.push({ field: unescape(term.slice(0, at)), operator, value: unescape(term.slice(at + operator.length)) });
        matched = true;
        break;
      }
    }
    if (!matched) throw badRequest(`invalid selector: '${raw}'; can't understand '${term}'`);
  }
  return terms;
}

function findUnescaped(text: string, needle: string): number {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') {
      i++;
      continue;
    }
    if (text.startsWith(needle, i)) return i;
  }
  return -1;
}

const SELECTABLE_FIELDS = [
  'metadata.name',
  'metadata.namespace',
  'spec.revision',
  'spec.packageName',
  'spec.repository',
  'spec.workspaceName',
  'spec.lifecycle',
];

const KPTFILE_LABEL_PREFIX = 'spec.packageMetadata.labels[';

/** What a PackageRevision list may be filtered on, after the selector was applied. */
export interface RevisionFilter {
  namespace: string;
  repository: string;
  path: string;
  leaf: string;
  workspaceName: string;
  /** 0 means "any revision". */
  revision: number;
  lifecycles: Lifecycle[];
  kptfileLabels: Record<string, string>;
}

function emptyFilter(): RevisionFilter {
  return { namespace: '', repository: '', path: '', leaf: '', workspaceName: '', revision: 0, lifecycles: [], kptfileLabels: {} };
}

/** Porch's Revision2Int: a leading "v" is ignored, anything unparsable becomes -1. */
function revisionNumber(text: string): number {
  const trimmed = text.startsWith('v') ? text.slice(1) : text;
  return /^[+-]?\d+$/.test(trimmed) ? Number.parseInt(trimmed, 10) : -1;
}

/**
 * Turn field-selector terms into a filter the way Porch does: the apiserver first rejects unknown
 * fields, then Porch allows only `=`/`==` and non-empty values. `metadata.name` replaces the whole
 * key when it parses and silently filters nothing when it does not (docs/porch.md §Listing).
 */
export function buildRevisionFilter(terms: FieldTerm[], urlNamespace: string): RevisionFilter {
  for (const term of terms) {
    if (SELECTABLE_FIELDS.includes(term.field)) continue;
    if (term.field.startsWith(KPTFILE_LABEL_PREFIX) && term.field.endsWith(']')) {
      if (term.field.length === KPTFILE_LABEL_PREFIX.length + 1) {
        throw badRequest(`label key cannot be empty in field selector "${term.field}"`);
      }
      continue;
    }
    throw badRequest(`"${term.field}" is not a known field selector`);
  }
  const filter = emptyFilter();
  for (const term of terms) {
    if (term.operator === '!=') {
      throw badRequest(`unsupported fieldSelector operator "${term.operator}" for field "${term.field}"`);
    }
    if (term.value === '') {
      throw badRequest(`unsupported fieldSelector value "" for field "${term.field}" with operator "${term.operator}"`);
    }
    if (term.field.startsWith(KPTFILE_LABEL_PREFIX)) {
      filter.kptfileLabels[term.field.slice(KPTFILE_LABEL_PREFIX.length, -1)] = term.value;
      continue;
    }
    applyTerm(filter, term);
  }
  if (urlNamespace !== '') {
    if (filter.namespace !== '' && filter.namespace !== urlNamespace) {
      throw unknownServerError(`conflicting namespaces specified: "${urlNamespace}" and "${filter.namespace}"`);
    }
    filter.namespace = urlNamespace;
  }
  return filter;
}

function applyTerm(filter: RevisionFilter, term: FieldTerm): void {
  switch (term.field) {
    case 'metadata.name': {
      const parsed = parseRevisionName(term.value);
      if (parsed.ok) {
        // The real code replaces the whole key, wiping earlier key filters (and the namespace).
        filter.namespace = '';
        filter.repository = parsed.key.repository;
        filter.path = parsed.key.path;
        filter.leaf = parsed.key.leaf;
        filter.workspaceName = parsed.key.workspaceName;
        filter.revision = 0;
      }
      return;
    }
    case 'metadata.namespace':
      filter.namespace = term.value;
      return;
    case 'spec.revision':
      filter.revision = revisionNumber(term.value);
      return;
    case 'spec.packageName': {
      const cut = term.value.lastIndexOf('/');
      if (cut >= 0) {
        filter.path = term.value.slice(0, cut);
        filter.leaf = term.value.slice(cut + 1);
      } else {
        filter.leaf = term.value;
      }
      return;
    }
    case 'spec.repository':
      filter.repository = term.value;
      return;
    case 'spec.workspaceName':
      filter.workspaceName = term.value;
      return;
    case 'spec.lifecycle':
      if (!isLifecycle(term.value)) {
        throw badRequest(`unsupported fieldSelector value "${term.value}" for field "spec.lifecycle"`);
      }
      filter.lifecycles.push(term.value);
      return;
  }
}

// ---- label selectors (full Kubernetes syntax) ----

type LabelRequirement =
  | { key: string; op: 'exists' | 'notexists' }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'gt' | 'lt'; value: number };

export interface LabelSelector {
  matches(labels: Record<string, string>): boolean;
}

const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkKey(key: string, raw: string): void {
  if (!LABEL_KEY.test(key)) throw badRequest(`unable to parse requirement: invalid label key "${key}" in selector "${raw}"`);
}

function checkValue(value: string, raw: string): void {
  if (value.length > 63 || !LABEL_VALUE.test(value)) {
    throw badRequest(`unable to parse requirement: invalid label value: "${value}" in selector "${raw}"`);
  }
}

/** Split on commas that are outside parentheses. */
function splitTopLevel(raw: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of raw) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

export function parseLabelSelector(raw: string): LabelSelector {
  const requirements: LabelRequirement[] = [];
  if (raw.trim() !== '') {
    for (const part of splitTopLevel(raw)) requirements.push(parseRequirement(part.trim(), raw));
  }
  return {
    matches(labels) {
      return requirements.every((r) => requirementMatches(r, labels));
    },
  };
}

function parseRequirement(text: string, raw: string): LabelRequirement {
  if (text === '') throw badRequest(`unable to parse requirement: found '', expected: identifier in selector "${raw}"`);
  const setMatch = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(text);
  if (setMatch !== null) {
    const key = setMatch[1] ?? '';
    checkKey(key, raw);
    const values = (setMatch[3] ?? '').split(',').map((v) => v.trim());
    for (const v of values) checkValue(v, raw);
    return { key, op: setMatch[2] === 'in' ? 'in' : 'notin', values };
  }
  if (text.startsWith('!')) {
    const key = text.slice(1).trim();
    checkKey(key, raw);
    return { key, op: 'notexists' };
  }
  for (const [token, op] of [
    ['!=', 'notin'],
    ['==', 'in'],
    ['=', 'in'],
    ['>', 'gt'],
    ['<', 'lt'],
  ] as const) {
    const at = text.indexOf(token);
    if (at < 0) continue;
    const key = text.slice(0, at).trim();
    const value = text.slice(at + token.length).trim();
    checkKey(key, raw);
    if (op === 'gt' || op === 'lt') {
      if (!/^-?\d+$/.test(value)) throw badRequest(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer`);
      return { key, op, value: Number.parseInt(value, 10) };
    }
    checkValue(value, raw);
    return { key, op, values: [value] };
  }
  checkKey(text, raw);
  return { key: text, op: 'exists' };
}

function requirementMatches(r: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, r.key);
  const value = labels[r.key];
  switch (r.op) {
    case 'exists':
      return has;
    case 'notexists':
      return !has;
    case 'in':
      return has && value !== undefined && r.values.includes(value);
    case 'notin':
      return !has || value === undefined || !r.values.includes(value);
    case 'gt':
    case 'lt': {
      if (!has || value === undefined || !/^-?\d+$/.test(value)) return false;
      const n = Number.parseInt(value, 10);
      return r.op === 'gt' ? n > r.value : n < r.value;
    }
  }
}
