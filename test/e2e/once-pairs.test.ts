// The delivery issue's acceptance 4, shortened for the suite (bench/once-pairs.ts runs the full
// 80 pairs and 25 status calls): two `once` processes started together on a fresh data
// directory never both own it, and `status` beside a working `run` changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { oncePairs, pairsOk, statusDuringRun, statusOk } from '../../bench/once-pairs.ts';

test('pairs of once started together: one owner, no ledger set aside, no exit 3, one commit per intent', async () => {
  const report = await oncePairs(10, 2);
  assert.ok(pairsOk(report), JSON.stringify(report, null, 2));
  assert.equal(report.commits, report.intents);
});

test('conductor status called while run works: nothing quarantined or set aside', async () => {
  const report = await statusDuringRun(5);
  assert.ok(statusOk(report), JSON.stringify(report, null, 2));
});
