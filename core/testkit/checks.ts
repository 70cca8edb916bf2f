// The conformance rules as plain functions: each takes what it checks and returns the
// problems it found, as sentences (an empty list is a pass). The suite in conformance.ts runs
// them at the right moments; keeping them pure keeps each rule readable on its own.
import { Ajv } from 'ajv';
import ajvFormats from 'ajv-formats';
import semver from 'semver';
import { ERROR_CODES, type ConductorError } from '../errors.ts';
import { isPluginDefinition } from '../plugin/define.ts';
import { STAGES, type PluginDefinition, type PluginKind, type PluginStatus, type PreflightCheck } from '../plugin/types.ts';
import { CONDUCTOR_VERSION } from '../version.ts';
import { AJV_OPTIONS } from '../schema/compile.ts';

const KEBAB = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const KINDS: readonly string[] = [...STAGES, 'service'];

/**
 * The documented start order (docs/architecture.md §Plugin contract), downstream first; stop is the reverse. Written
 * out here rather than taken from the core, so the check holds the core to the contract.
 */
export const START_ORDER: readonly PluginKind[] = ['service', 'audit', 'submit', 'rate-limit', 'sanitize', 'validate', 'source'];

export function kindsOf(definition: PluginDefinition<any>): readonly PluginKind[] {
  return typeof definition.kind === 'string' ? [definition.kind] : definition.kind;
}

/** A plugin serving several stages starts with the most downstream of them. */
export function startRankOf(kinds: readonly PluginKind[]): number {
  return Math.min(...kinds.map((kind) => START_ORDER.indexOf(kind)));
}

export function definitionProblems(definition: PluginDefinition<any>): string[] {
  const problems: string[] = [];
  if (!isPluginDefinition(definition)) problems.push('it is not the value definePlugin() returned (export definePlugin({...}))');
  if (typeof definition.name !== 'string' || !KEBAB.test(definition.name))
    problems.push(`name ${JSON.stringify(definition.name)} is not kebab-case`);
  const kinds = kindsOf(definition);
  if (kinds.length === 0) problems.push('kind names no stage');
  for (const kind of kinds) if (!KINDS.includes(kind)) problems.push(`kind "${kind}" is not one of ${KINDS.join(', ')}`);
  if (new Set(kinds).size !== kinds.length) problems.push('kind lists a stage twice');
  if (typeof definition.description !== 'string' || definition.description.trim() === '') problems.push('description is empty');
  for (const dependency of definition.dependencies ?? []) {
    if (!KEBAB.test(dependency)) problems.push(`dependency "${dependency}" is not a plugin name`);
    if (dependency === definition.name) problems.push('it depends on itself');
  }
  if (definition.conductor !== undefined) {
    if (semver.validRange(definition.conductor) === null) problems.push(`conductor "${definition.conductor}" is not a semver range`);
    else if (!semver.satisfies(CONDUCTOR_VERSION, definition.conductor, { includePrerelease: true })) {
      problems.push(`conductor "${definition.conductor}" excludes this Conductor (${CONDUCTOR_VERSION})`);
    }
  }
  for (const [name, command] of Object.entries(definition.commands ?? {})) {
    if (!KEBAB.test(name)) problems.push(`command "${name}" is not kebab-case`);
    if (typeof command.summary !== 'string' || command.summary === '') problems.push(`command "${name}" has no summary`);
    if (typeof command.help !== 'string' || command.help === '') problems.push(`command "${name}" has no help`);
    if (typeof command.run !== 'function') problems.push(`command "${name}" has no run()`);
  }
  return problems;
}

/** A fresh ajv with the settings the core validates plugin options with (core/schema/compile.ts). */
export function strictAjv(): Ajv {
  const ajv = new Ajv(AJV_OPTIONS);
  ajvFormats.default(ajv);
  return ajv;
}

export function schemaProblems(schema: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (schema['type'] !== 'object') problems.push('the options schema is not {type: "object"}');
  if (schema['additionalProperties'] !== false) problems.push('the options schema does not set additionalProperties: false');
  try {
    strictAjv().compile(schema);
  } catch (error) {
    problems.push(`the options schema does not compile in ajv strict mode: ${(error as Error).message}`);
  }
  for (const path of openObjectsIn(schema, '')) {
    problems.push(
      `${path} accepts any key: give it properties with additionalProperties: false, or additionalProperties: <schema> for a map`,
    );
  }
  return problems;
}

/** Nested object schemas that take unknown keys unchecked (where a typo would pass silently). */
function openObjectsIn(schema: unknown, path: string): string[] {
  if (typeof schema !== 'object' || schema === null) return [];
  if (Array.isArray(schema)) return schema.flatMap((item, i) => openObjectsIn(item, `${path}[${i}]`));
  const node = schema as Record<string, unknown>;
  const found: string[] = [];
  const isObject = node['type'] === 'object' || node['properties'] !== undefined;
  const closed =
    node['additionalProperties'] !== undefined || node['patternProperties'] !== undefined || node['unevaluatedProperties'] !== undefined;
  if (path !== '' && isObject && !closed) found.push(`options${path}`);
  const children = (key: string, value: unknown) => {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [name, child] of Object.entries(value))
        found.push(...openObjectsIn(child, `${path}.${key === 'properties' ? name : `${key}.${name}`}`));
    }
  };
  children('properties', node['properties']);
  children('patternProperties', node['patternProperties']);
  children('$defs', node['$defs']);
  children('definitions', node['definitions']);
  children('dependentSchemas', node['dependentSchemas']);
  for (const key of ['additionalProperties', 'items', 'prefixItems', 'anyOf', 'oneOf', 'allOf', 'not', 'if', 'then', 'else']) {
    found.push(...openObjectsIn(node[key], `${path}(${key})`));
  }
  return found;
}

const MEMBERS = new Set(['start', 'stop', 'apply', 'status', 'idle', 'preflight', 'plan', 'history']);

export function instanceProblems(instance: unknown): string[] {
  if (typeof instance !== 'object' || instance === null) return [`create() returned ${String(instance)}, not an instance object`];
  const problems: string[] = [];
  for (const [key, value] of Object.entries(instance)) {
    if (!MEMBERS.has(key)) problems.push(`the instance has "${key}", which the core never calls (a typo of ${[...MEMBERS].join('/')}?)`);
    else if (typeof value !== 'function') problems.push(`instance.${key} is not a function`);
  }
  return problems;
}

export function statusProblems(status: unknown, when: string): string[] {
  if (typeof status !== 'object' || status === null) return [`status() ${when} returned ${String(status)}, not {ready: boolean}`];
  const { ready, message, details } = status as PluginStatus;
  const problems: string[] = [];
  if (typeof ready !== 'boolean') problems.push(`status() ${when}: ready is ${typeof ready}, not a boolean`);
  if (message !== undefined && typeof message !== 'string') problems.push(`status() ${when}: message is not a string`);
  if (details !== undefined && (typeof details !== 'object' || details === null))
    problems.push(`status() ${when}: details is not an object`);
  return problems;
}

export function preflightProblems(checks: unknown): string[] {
  if (!Array.isArray(checks)) return ['preflight() did not resolve to an array of checks'];
  return (checks as PreflightCheck[]).flatMap((check, i) =>
    typeof check?.name === 'string' && typeof check.ok === 'boolean' && typeof check.message === 'string'
      ? []
      : [`preflight() check ${i} is not {name: string, ok: boolean, message: string}`],
  );
}

export function isErrorCode(code: unknown): boolean {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

/** An error a plugin's tap raised, as the core's interceptors saw it. */
export function tapErrorProblems(error: ConductorError, id: string, options: { classified: boolean }): string[] {
  const problems: string[] = [];
  if (!isErrorCode(error.code)) problems.push(`error code ${String(error.code)} is not one of ERROR_CODES`);
  if (error.plugin !== id) problems.push(`the error names plugin ${String(error.plugin)}, not ${id}`);
  if (options.classified && error.code === 'CND_ERR_INTERNAL') {
    problems.push(
      `a raw error escaped (it became CND_ERR_INTERNAL: ${error.message}); throw a ConductorError with the code that says how to treat it`,
    );
  }
  return problems;
}

/**
 * Where `id` stands in `journal` relative to the landmark probes: every probe of a stage
 * downstream of it must start before it and stop after it; every upstream one the reverse.
 * Probes of its own rank may go either way.
 */
export function orderProblems(
  journal: readonly string[],
  id: string,
  kinds: readonly PluginKind[],
  probeOf: (kind: PluginKind) => string,
  phase: 'start' | 'stop',
): string[] {
  const rank = startRankOf(kinds);
  const at = journal.indexOf(`${phase} ${id}`);
  if (at === -1) return [`${phase}() of ${id} was never called`];
  const problems: string[] = [];
  for (const [probeRank, kind] of START_ORDER.entries()) {
    if (probeRank === rank) continue;
    const probeAt = journal.indexOf(`${phase} ${probeOf(kind)}`);
    const downstream = probeRank < rank;
    const shouldBeBefore = phase === 'start' ? downstream : !downstream;
    if (probeAt === -1) problems.push(`the ${kind} stage's landmark was not ${phase}ed`);
    else if (shouldBeBefore !== probeAt < at) {
      problems.push(
        `${id} was ${phase}ed ${probeAt < at ? 'after' : 'before'} the ${kind} stage; expected ${shouldBeBefore ? 'after' : 'before'} it`,
      );
    }
  }
  return problems;
}
