// Strings cut from a larger one (a trailer's value from a commit message, an object id from
// git's output) are, in V8, slices that keep the whole larger string in memory. What the sink
// keeps for long — per target, per intent — is copied first, so a few bytes kept do not hold
// kilobytes of message.

/** A copy of `text` that shares no storage with the string it was cut from. */
export function detached(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}
