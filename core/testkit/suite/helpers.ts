// Small helpers the conformance groups share: deadlines, handle counts that are allowed to
// settle, companions that are configured but inert.
import { resolvePluginDefinition, pluginNameOf } from '../../plugin/resolve.ts';
import type { PluginDefinition } from '../../plugin/types.ts';
import { activeHandles, grownHandles } from '../io-trap.ts';
import { inert } from '../wrappers.ts';

/** Companions for the timeout checks: configured (dependencies hold) but never really started. */
export async function inertCompanions(
  companions: Record<string, Record<string, unknown>>,
  modules: Record<string, PluginDefinition<any> | string>,
  baseDir: string,
): Promise<Record<string, PluginDefinition<any>>> {
  const names = [...new Set(Object.keys(companions).map(pluginNameOf))];
  return Object.fromEntries(
    await Promise.all(names.map(async (name) => [name, inert(await resolvePluginDefinition(name, modules, baseDir))])),
  );
}

/**
 * What grew since `before`, once it stops shrinking: a closed socket or watcher leaves the
 * list a few turns of the event loop after its close() resolved, so this waits for the list
 * to settle (up to `lingerMs`) rather than judging the first look.
 */
export async function handlesGrownSince(before: Map<string, number>, lingerMs: number): Promise<string[]> {
  const deadline = performance.now() + lingerMs;
  for (;;) {
    const grown = grownHandles(before, activeHandles());
    if (grown.length === 0 || performance.now() > deadline) return grown;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Runs `work` with an abort signal; fails with `what` when it takes longer than `ms`. */
export async function within<T>(ms: number, what: string, work: (signal: AbortSignal) => Promise<T> | T): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`${what} did not finish within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([Promise.resolve().then(() => work(controller.signal)), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export function escapedForRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
