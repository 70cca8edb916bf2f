// When `conductor once` stops. One pass offers every intent in handoff/ once; an intent the sink
// could not take within the retry policy is deferred (left in handoff/). A busy server defers a
// few intents while it delivers the rest, and those deserve another pass; a server that stays
// down delivers nothing, and then `once` ends with exit 3 rather than looping. So: another pass
// over what is left while the previous pass settled at least one intent, up to MAX_PASSES, each
// pass bounded by the retry policy — `once` ends in bounded time either way.
import type { Conductor } from '../app.ts';
import type { HostStats } from '../delivery/host.ts';
import type { Logger } from '../log.ts';
import { sleep } from '../delivery/retry.ts';

/** At most this many passes over handoff/ (the first included). */
export const MAX_PASSES = 5;
/** Upper bound of the pause between two passes (requeueDelayMs, if shorter, is used). */
const MAX_PAUSE_MS = 5_000;

export interface PassTotals {
  passes: number;
  settled: number;
  failed: number;
  /** Intents still deferred after the last pass: they stay in handoff/. */
  deferred: number;
}

/** Runs passes of fresh pipelines built by `open` until nothing is deferred or a pass makes no progress. */
export async function drainInPasses(
  open: () => Promise<Conductor>,
  run: (conductor: Conductor) => Promise<HostStats>,
  options: { log: Logger; pauseMs: number },
): Promise<PassTotals> {
  const totals: PassTotals = { passes: 0, settled: 0, failed: 0, deferred: 0 };
  for (;;) {
    totals.passes += 1;
    const stats = await run(await open());
    const settled = stats.succeeded + stats.failed + stats.duplicate + stats.superseded;
    totals.settled += settled;
    totals.failed += stats.failed;
    totals.deferred = stats.deferred;
    if (stats.deferred === 0) return totals;
    if (settled === 0 || totals.passes >= MAX_PASSES) {
      options.log.warn(
        { passes: totals.passes, deferred: stats.deferred },
        `${stats.deferred} intent(s) could not be delivered; they stay in handoff/`,
      );
      return totals;
    }
    options.log.info(
      { pass: totals.passes + 1, deferred: stats.deferred, settledInLastPass: settled },
      'another pass over the intents left in handoff/',
    );
    await sleep(Math.min(options.pauseMs, MAX_PAUSE_MS));
  }
}
