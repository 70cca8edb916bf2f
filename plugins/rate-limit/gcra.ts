// The token bucket as GCRA (the generic cell rate algorithm, ITU-T I.371): one number per bucket,
// the theoretical arrival time (TAT) of the next request at the steady rate. It is exactly a
// bucket of `burst` tokens refilled one every `interval` ms, with no windows and no rounding.
//
// Each request *reserves* its place: the TAT moves on by one interval whether the request may
// pass now or must wait, so waiters are served in the order they asked and never compete again
// when their time comes. A request may pass once `now >= TAT - tolerance`, where the tolerance
// (burst - 1 intervals) is what lets a full bucket pass `burst` requests at once.

/** The bucket's shape in milliseconds: one token every `interval`, `tolerance` for the burst. */
export interface Cadence {
  interval: number;
  tolerance: number;
}

export function cadenceOf(requestsPerMinute: number, burst: number): Cadence {
  const interval = 60_000 / requestsPerMinute;
  return { interval, tolerance: interval * (burst - 1) };
}

/**
 * Reserves one token at `now`: how long the caller must wait before passing, and the bucket's
 * next TAT. `tat` is undefined for a bucket never used (or expired: a full bucket).
 */
export function reserve(tat: number | undefined, now: number, cadence: Cadence): { waitMs: number; tat: number } {
  const start = tat === undefined || tat < now ? now : tat;
  return { waitMs: Math.max(0, start - cadence.tolerance - now), tat: start + cadence.interval };
}

/**
 * The same reservation done inside Redis, so that replicas sharing a bucket reserve atomically
 * and on one clock (the server's TIME, not each replica's). The key expires once the bucket
 * would be full again, so an idle bucket costs nothing. Returns the wait in milliseconds.
 */
export const RESERVE_SCRIPT = `
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local stored = redis.call('GET', KEYS[1])
local tat = now
if stored then
  local value = tonumber(stored)
  if value > now then tat = value end
end
local wait = tat - tolerance - now
if wait < 0 then wait = 0 end
local next = tat + interval
redis.call('SET', KEYS[1], string.format('%.3f', next), 'PX', math.ceil(next - now) + 1000)
return string.format('%.3f', wait)
`;
