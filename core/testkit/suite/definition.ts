// Conformance, part 1: the definition — metadata, the options schema, and the defaults
// merged with the given options, validated by the core's own config resolver.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../config/validate.ts';
import { definitionProblems, schemaProblems } from '../checks.ts';
import { CHECK, type Subject } from './subject.ts';

export function definitionChecks(subject: Subject): void {
  const { definition, name, plugins, modules, baseDir, env } = subject;
  describe('definition', () => {
    it('is declared with definePlugin, with valid metadata', CHECK, () => {
      assert.deepEqual(definitionProblems(definition), []);
    });

    it('has an options schema that compiles in ajv strict mode and closes every object', CHECK, () => {
      assert.deepEqual(schemaProblems(definition.optionsSchema), []);
    });

    it('accepts its defaults merged with the given options, as the config resolver does', CHECK, async () => {
      await resolveConfig(
        { dataDir: join(tmpdir(), 'conductor-conformance-unused'), modules: modules(definition), plugins },
        { source: `conformance of ${name}`, baseDir, env },
      ).catch((error: unknown) => assert.fail((error as Error).message));
    });
  });
}
