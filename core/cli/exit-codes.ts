// Exit codes (docs/architecture.md §Commands and exit codes, a contract scripts rely on).
export const EXIT = {
  ok: 0,
  /** At least one intent of this run failed permanently (it is in failed/). */
  failed: 1,
  /** Usage or config error; nothing was touched. */
  usage: 2,
  /** Work left undone (sink unreachable past the retry budget); those intents stay in handoff/. */
  undone: 3,
  interruptedInt: 130,
  interruptedTerm: 143,
} as const;
