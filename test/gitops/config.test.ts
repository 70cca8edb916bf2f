// The config each rendered ConfigMap carries passes the app's own validator:
// `conductor validate --config <file>` (run as `node core/cli/conductor.js validate ...`).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { composeConfig } from './support/compose.ts';
import { checkConfigValidates, validateConfigText } from './support/config.ts';
import { formatFindings } from './support/objects.ts';
import { inParallel, listComponents, OVERLAYS, renderOverlay } from './support/render.ts';

describe('conductor validate', () => {
  for (const overlay of OVERLAYS) {
    it(`accepts the config in overlay ${overlay}'s ConfigMap`, async () => {
      const findings = await checkConfigValidates(await renderOverlay(overlay));
      assert.equal(findings.length, 0, formatFindings(findings));
    });
  }

  it('accepts the composed config of the base, of each component, and of all components together', async () => {
    // The merge patches touch disjoint plugins, so these cover every combination's config
    // (which render.test.ts renders and checks); identical configs are validated once.
    const components = await listComponents();
    const byText = new Map<string, string[]>();
    for (const combo of [[], ...components.map((c) => [c]), components]) {
      const text = `${JSON.stringify(await composeConfig(combo), null, 2)}\n`;
      byText.set(text, [...(byText.get(text) ?? []), ['base', ...combo].join(' + ')]);
    }
    const results = await inParallel([...byText], 2, async ([text, combos]) => ({ combos, result: await validateConfigText(text) }));
    const failed = results.filter((r) => r.result.code !== 0);
    assert.deepEqual(
      failed.flatMap((f) => f.combos),
      [],
      failed.map((f) => `${f.combos.join(', ')}: exit ${f.result.code}: ${f.result.stderr || f.result.stdout}`).join('\n'),
    );
  });

  it('refuses a config with an unknown key (so an exit 0 above means something)', async () => {
    const result = await validateConfigText(`${JSON.stringify({ ...(await composeConfig([])), notAKey: true })}\n`);
    assert.notEqual(result.code, 0, 'an unknown top-level key must be refused');
  });
});
