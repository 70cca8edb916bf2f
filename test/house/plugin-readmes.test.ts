// Each built-in plugin's README is generated from its definition (scripts/plugin-readmes.ts), and
// so is the options table in each example plugin's README: regenerated here in memory and
// compared with the file, so a changed option description, default or docs entry without
// `npm run docs:plugins` fails, naming the stale README. The schemas are also held to being the
// one place an option is written: every option described, the defaults the config resolver
// merges exactly the schema's, and each README's example a valid config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { examplePluginNames, renderPluginReadmes, renderReadme } from '../../scripts/plugin-readmes.ts';
import { resolveConfig } from '../../core/config/validate.ts';
import { defaultsOf } from '../../core/plugin/options.ts';
import { builtinPluginNames } from '../../core/plugin/resolve.ts';
import type { PluginDefinition } from '../../core/plugin/types.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function definitions(): Promise<PluginDefinition[]> {
  const names = builtinPluginNames();
  assert.ok(names.length >= 12, `the built-in plugins are found (${names.join(', ')})`);
  return Promise.all(
    names.map(async (name) => ((await import(`../../plugins/${name}/index.ts`)) as { default: PluginDefinition }).default),
  );
}

/** The READMEs whose file differs from what the generator writes now (missing ones included). */
function staleReadmes(expected: Map<string, string>): string[] {
  return [...expected]
    .filter(([path, text]) => !existsSync(join(ROOT, path)) || readFileSync(join(ROOT, path), 'utf8') !== text)
    .map(([path]) => path);
}

test('every plugin folder has a README generated from its definition, up to date (npm run docs:plugins)', { timeout: 60_000 }, async () => {
  const expected = await renderPluginReadmes();
  // Every built-in plugin's whole README; an example's options table within its own README.
  assert.equal(expected.size, builtinPluginNames().length + examplePluginNames().length);
  const stale = staleReadmes(expected);
  assert.deepEqual(stale, [], `stale plugin README(s): ${stale.join(', ')} — run npm run docs:plugins`);
});

test("the repository's README links every plugin's README", async () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const unlinked = builtinPluginNames().filter((name) => !readme.includes(`](plugins/${name}/README.md)`));
  assert.deepEqual(unlinked, [], 'plugins missing from the table of built-in plugins in README.md');
});

test('a changed option description makes the README stale, and the check names the file', async () => {
  const [definition] = await definitions();
  const schema = structuredClone(definition!.optionsSchema) as { properties: Record<string, { description: string }> };
  const [option] = Object.keys(schema.properties);
  assert.ok(option !== undefined, `${definition!.name} has an option to change`);
  const property = schema.properties[option]!;
  property.description += ' (changed)';
  const path = `plugins/${definition!.name}/README.md`;
  const changed = renderReadme({ ...definition!, optionsSchema: schema });
  assert.ok(changed.includes(`${property.description} |`), 'the description reaches the options table');
  assert.deepEqual(staleReadmes(new Map([[path, changed]])), [path]);
});

test('every option of every built-in plugin has a description, nested ones too', async () => {
  const missing: string[] = [];
  const walk = (plugin: string, prefix: string, schema: Record<string, unknown>) => {
    for (const [key, property] of Object.entries((schema['properties'] ?? {}) as Record<string, Record<string, unknown>>)) {
      if (typeof property['description'] !== 'string' || property['description'].trim() === '') missing.push(`${plugin}: ${prefix}${key}`);
      walk(plugin, `${prefix}${key}.`, property);
    }
  };
  for (const definition of await definitions()) walk(definition.name, '', definition.optionsSchema);
  assert.deepEqual(missing, []);
});

test("a plugin's defaults are its schema's defaults, written nowhere else", async () => {
  for (const definition of await definitions()) {
    assert.deepEqual(definition.defaults, defaultsOf(definition.optionsSchema), definition.name);
  }
});

test("each README's example is a config the resolver accepts", async () => {
  for (const definition of await definitions()) {
    const plugins = definition.docs?.example as Record<string, unknown>;
    assert.ok(plugins !== undefined && Object.keys(plugins).length > 0, `${definition.name} has an example`);
    // A sink or a source alone is a valid config; dependencies are configured beside it.
    const companions = Object.fromEntries((definition.dependencies ?? []).map((name) => [name, {}]));
    await resolveConfig(
      { dataDir: join(tmpdir(), 'conductor-readme-example-unused'), plugins: { ...companions, ...plugins } },
      { source: `${definition.name} README example`, baseDir: ROOT },
    ).catch((error: unknown) => assert.fail(`${definition.name}: ${(error as Error).message}`));
  }
});
