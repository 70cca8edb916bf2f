// What the renderer knows of package texts it wrote itself by token swaps (krm.ts), so that the
// next intent for the same package finds its Deployment and the replicas token without parsing
// the text again. Each entry is a pure function of its text, found by the text itself: a file
// someone else changed is another string and is not found, and losing an entry costs one parse.

/** A Deployment of a text, as `metadata` names it (the values as the YAML reads them). */
export interface DeploymentName {
  name: unknown;
  namespace: unknown;
}

export interface WrittenText {
  /** Every Deployment of the text, in document order; every document of it parses without errors. */
  deployments: readonly DeploymentName[];
  /** Which of them was edited: its `spec.replicas` is the plain scalar token at [start, end). */
  edited: number;
  replicas: { start: number; end: number; value: number };
}

/** Characters the entries' texts may hold together (a package file is a few KiB). */
const MAX_CHARS = 2 * 1024 * 1024;
/** A text longer than this is not kept (it would push out hundreds of usual ones). */
const MAX_TEXT_CHARS = 64 * 1024;

const entries = new Map<string, WrittenText>();
let chars = 0;

export function writtenText(text: string): WrittenText | undefined {
  return entries.get(text);
}

export function rememberWritten(text: string, facts: WrittenText): void {
  if (text.length > MAX_TEXT_CHARS || entries.has(text)) return;
  entries.set(text, facts);
  chars += text.length;
  // Oldest first out: the package written longest ago is the least likely to be edited next.
  for (const oldest of entries.keys()) {
    if (chars <= MAX_CHARS) break;
    entries.delete(oldest);
    chars -= oldest.length;
  }
}

/** Forgets every entry (tests compare what is rendered with and without them). */
export function forgetWritten(): void {
  entries.clear();
  chars = 0;
}
