// Waiting for a condition, never for a fixed time: polls until `check` returns a truthy value
// or the deadline passes, then fails naming what it waited for.
import { setTimeout as delay } from 'node:timers/promises';

export async function until<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(10);
  }
}
