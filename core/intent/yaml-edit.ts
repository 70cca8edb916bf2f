// Byte-exact edits of YAML text. The yaml library's document model gives every node its source
// range; changing a value means replacing the bytes of that one scalar, and adding a key means
// inserting one line into its block map (or one entry into its flow map). Nothing is ever
// re-serialised, so comments, quoting, flow maps and indentation elsewhere stay as they were.
import type { Node, Pair, Scalar, YAMLMap } from 'yaml';

/** Replace `source[start, end)` with `text`. */
export interface TextEdit {
  start: number;
  end: number;
  text: string;
  /**
   * The edit swaps one scalar token for another of its kind that reads as exactly the value
   * meant (see `setScalar`): no other byte of the text can read differently because of it.
   */
  tokenSwap?: true;
}

/** A value that cannot be changed without rewriting more than its own bytes. */
export class UneditableYaml extends Error {
  override readonly name = 'UneditableYaml';
}

/** Applies non-overlapping edits, all given in offsets of the original text. */
export function applyEdits(source: string, edits: readonly TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => b.start - a.start || b.end - a.end);
  let text = source;
  let limit = Infinity;
  for (const edit of sorted) {
    // Edits are applied from the end backwards, so each one's offsets still hold.
    if (edit.end > limit) throw new UneditableYaml('two edits overlap');
    text = text.slice(0, edit.start) + edit.text + text.slice(edit.end);
    limit = edit.start;
  }
  return text;
}

/**
 * The text of a value as YAML: a number as is; a string plain when it reads back as the same
 * string (`api`, `web-1`), double-quoted otherwise (`"123"`, `"true"`), or in the quoting style
 * the replaced scalar had.
 */
export function scalarText(value: string | number, readsBack: (text: string) => unknown, style?: Scalar['type']): string {
  if (typeof value === 'number') return String(value);
  if (style === 'QUOTE_SINGLE') return `'${value.replaceAll("'", "''")}'`;
  if (style !== 'QUOTE_DOUBLE' && /^[A-Za-z0-9][-A-Za-z0-9._/]*$/.test(value) && readsBack(value) === value) return value;
  return JSON.stringify(value);
}

/**
 * Sets one scalar to `value`: a number as a plain decimal, a string as `scalarText` writes it in
 * the scalar's style. Marks the edit a token swap when it provably changes that value and
 * nothing else (`swapsToken`).
 */
export function setScalar(source: string, node: Scalar, value: string | number, readsBack: (text: string) => unknown): TextEdit {
  const text = typeof value === 'number' ? String(value) : scalarText(value, readsBack, node.type);
  const edit = replaceScalar(source, node, text);
  return swapsToken(source, node, text, value, readsBack) ? { ...edit, tokenSwap: true } : edit;
}

/** A plain token that is one scalar wherever a value stands: no indicator, space, ':' or '#'. */
const PLAIN_TOKEN = /^[A-Za-z0-9][-A-Za-z0-9._/]*$/;
/** What may stand between quotes with no escape and no special meaning. */
const QUOTED_TOKEN = /^(?:"[-A-Za-z0-9._/ ]*"|'[-A-Za-z0-9._/ ]*')$/;

/**
 * Whether `text` in place of `node`'s bytes is read as one scalar token of the same kind in the
 * same place, reading as `value`, so that the lexer reads every other byte as before. It is when
 * the node is one line long and not empty (a plain scalar that continues on the next line, or an
 * empty value, could join what follows), carries no tag (which would say how to read the new
 * text) and no anchor (an alias elsewhere would change with it), and the new token is of its
 * kind: plain for plain (`isPlainSwap`); quoted in the same quotes, with nothing to escape.
 */
function swapsToken(source: string, node: Scalar, text: string, value: string | number, readsBack: (text: string) => unknown): boolean {
  const [start, end] = node.range!;
  if (start === end || node.tag !== undefined || node.anchor !== undefined) return false;
  if (/[\r\n]/.test(source.slice(start, end))) return false;
  if (node.type === 'PLAIN') return isPlainSwap(text, value, readsBack);
  const quote = node.type === 'QUOTE_DOUBLE' ? '"' : node.type === 'QUOTE_SINGLE' ? "'" : undefined;
  return quote !== undefined && text.startsWith(quote) && QUOTED_TOKEN.test(text) && text.slice(1, -1) === value;
}

/**
 * Whether `text` may replace a plain scalar token that `swapsToken` once accepted (one line, no
 * tag, no anchor): it is a plain token, of characters that cannot end it, start another node or
 * a comment (flow context included), and reads as `value` by the core schema.
 */
export function isPlainSwap(text: string, value: string | number, readsBack: (text: string) => unknown): boolean {
  return PLAIN_TOKEN.test(text) && readsBack(text) === value;
}

/** Replaces the bytes of one scalar (an empty `key:` gets its value after a space). */
export function replaceScalar(source: string, node: Scalar, text: string): TextEdit {
  if (!node.range) throw new UneditableYaml('the value has no source position');
  const [start, end] = node.range;
  if (node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED') throw new UneditableYaml('the value is a block scalar');
  const empty = start === end;
  return { start, end, text: empty && source[start - 1] === ':' ? ` ${text}` : text };
}

/**
 * Adds `key: text` to a map. In a block map it becomes one new line at the indentation of the
 * map's other keys: right after the line of the `after` key when that key has a one-line value,
 * else right after the line that opens the map (`parentKeyEnd`, the end of the key that holds
 * it). In a flow map it becomes the first entry: `{a: 1}` → `{key: text, a: 1}`.
 */
export function insertKey(source: string, map: YAMLMap, key: string, text: string, parentKeyEnd: number, after?: string): TextEdit {
  if (!map.range) throw new UneditableYaml('the map has no source position');
  if (map.flow) {
    const open = map.range[0];
    if (source[open] !== '{') throw new UneditableYaml('the flow map does not start with "{"');
    return { start: open + 1, end: open + 1, text: map.items.length === 0 ? `${key}: ${text}` : `${key}: ${text}, ` };
  }
  const first = map.items[0] as Pair<Node, unknown> | undefined;
  const firstKey = first?.key as Node | undefined;
  if (!firstKey?.range) throw new UneditableYaml('the map is empty');
  const lineStart = source.lastIndexOf('\n', firstKey.range[0] - 1) + 1;
  const indent = source.slice(lineStart, firstKey.range[0]);
  if (!/^ *$/.test(indent)) throw new UneditableYaml("the map's keys do not start their lines");
  const afterPair = after === undefined ? undefined : map.items.find((p) => keyOf(p) === after);
  const afterValue = afterPair?.value as Node | undefined;
  const afterRange = afterValue?.range ?? undefined;
  const afterEnd = afterRange && !source.slice(afterRange[0], afterRange[1]).includes('\n') ? afterRange[1] : undefined;
  const newline = source.indexOf('\n', afterEnd ?? parentKeyEnd);
  if (newline === -1 || (afterEnd === undefined && newline >= firstKey.range[0])) {
    throw new UneditableYaml('the map starts on the line of its key');
  }
  const eol = source[newline - 1] === '\r' ? '\r\n' : '\n';
  return { start: newline + 1, end: newline + 1, text: `${indent}${key}: ${text}${eol}` };
}

/** A pair's key as a string (keys of KRM maps are plain scalars). */
export function keyOf(pair: Pair): string | undefined {
  const key = pair.key as { value?: unknown } | null;
  return typeof key?.value === 'string' ? key.value : undefined;
}
