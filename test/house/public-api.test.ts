// The public API changes only on purpose. The names and declared types of the package's entry
// points (core/index.ts, core/testkit/index.ts) are checked in as public-api.snapshot.txt; any
// export added, removed or changed fails here with the difference, until the change is reviewed
// and recorded with `npm run api:update`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createTwoFilesPatch } from 'diff';
import { publicApiSnapshot, SNAPSHOT_FILE } from '../../scripts/public-api.ts';

test('the public API is the one in the snapshot', { timeout: 120_000 }, async () => {
  const recorded = readFileSync(SNAPSHOT_FILE, 'utf8');
  const current = await publicApiSnapshot();
  if (current === recorded) return;
  const difference = createTwoFilesPatch('public-api.snapshot.txt (recorded)', 'public API (now)', recorded, current, '', '', {
    context: 2,
  });
  assert.fail(`the public API changed; review the difference, then record it with \`npm run api:update\`:\n${difference}`);
});
