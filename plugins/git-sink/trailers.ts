// The commit message and its trailer block: the record of each intent's effect in history.
// Per intent, two trailers, both starting with the intent id so that a grouped commit stays
// unambiguous:
//   Conductor-Intent-Id: <id>
//   Conductor-Intent-Effect: <id> content=<hash> target=<namespace>/<target> order=<ms>
// The id line is what earlier versions wrote and what readers of history (and `git log
// --format=%(trailers:key=Conductor-Intent-Id)`) look for; the effect line adds the content hash
// (the effect's identity is id and content) and the producer's order (the newest intent for a
// target wins). A commit with the id line alone, as earlier versions wrote, is read as "this
// id, content not recorded", which counts as the same content. The block ends with the audit
// chain's head as it stood before the commit (`Conductor-Audit-Anchor`), when an audit log offers
// one: an anchor outside the data volume's reach once the repository is pushed, which
// `conductor audit verify --anchors-from-git` compares the log against.
import { AUDIT_ANCHOR_PATTERN, AUDIT_ANCHOR_TRAILER, printable, type Intent } from '../../core/index.ts';

export const TRAILER = 'Conductor-Intent-Id';
export const EFFECT_TRAILER = 'Conductor-Intent-Effect';
const TRAILER_LINES = new RegExp(`^${TRAILER}: (\\S+)$`, 'gm');
const EFFECT_LINES = new RegExp(`^${EFFECT_TRAILER}: (\\S+)((?: [a-z]+=\\S*)*)$`, 'gm');

/** What a commit records about one intent it applied. */
export interface RecordedEffect {
  id: string;
  /** Absent in commits written before content hashes were recorded. */
  contentHash?: string;
  /** `<namespace>/<target>`: the key the producer's order is compared under. */
  target?: string;
  /** The producer's write time (ms since the epoch), when the source knew it. */
  order?: number;
}

/** One intent as the message describes it. */
export interface MessageEntry {
  intent: Intent;
  intentId: string;
  file: string;
  contentHash?: string | undefined;
  order?: number | undefined;
  anchor?: string | undefined;
}

/** The key intents for one target are ordered under (the same key as the pipeline's per-target queue). */
export function targetKey(intent: Pick<Intent, 'namespace' | 'target'>): string {
  return `${intent.namespace}/${intent.target}`;
}

function effectLine(entry: MessageEntry): string {
  const fields = [
    ...(entry.contentHash === undefined ? [] : [`content=${entry.contentHash}`]),
    `target=${encodeURIComponent(entry.intent.namespace)}/${encodeURIComponent(entry.intent.target)}`,
    ...(entry.order === undefined || !Number.isFinite(entry.order) ? [] : [`order=${entry.order}`]),
  ];
  return `${EFFECT_TRAILER}: ${entry.intentId} ${fields.join(' ')}`;
}

/**
 * The commit message: for one intent, what it does, why and from which file; for a group, one
 * line per intent. Either way the trailer block ends it, an id and an effect line per intent.
 */
export function commitMessage(group: readonly MessageEntry[]): string {
  const what = (intent: Intent) => `${intent.intent_type} ${intent.namespace}/${intent.target} to ${intent.replicas} replicas`;
  // A reason may hold line breaks; kept on one line it can never pass for a trailer.
  const oneLine = (text: string | undefined) => text?.replace(/\s+/g, ' ').trim();
  // The newest anchor of the group: the chain head before the last of its effects.
  const anchor = group
    .map((p) => p.anchor)
    .filter((a) => a !== undefined && AUDIT_ANCHOR_PATTERN.test(a))
    .at(-1);
  const trailers = [
    ...group.flatMap((p) => [`${TRAILER}: ${p.intentId}`, effectLine(p)]),
    ...(anchor === undefined ? [] : [`${AUDIT_ANCHOR_TRAILER}: ${anchor}`]),
  ].join('\n');
  if (group.length === 1) {
    const { intent, file } = group[0]!;
    const body = [intent.reason ? `Reason: ${oneLine(intent.reason)}` : '', `Intent file: ${printable(file)}`].filter(Boolean).join('\n');
    return `${what(intent)}\n\n${body}\n\n${trailers}\n`;
  }
  const lines = group.map(
    ({ intent, file }) => `- ${what(intent)} (${printable(file)}${intent.reason ? `: ${oneLine(intent.reason)}` : ''})`,
  );
  return `Apply ${group.length} intents\n\n${lines.join('\n')}\n\n${trailers}\n`;
}

/** The trailer block: the message's last paragraph, as git reads it. */
function trailerBlock(message: string): string {
  const text = message.trimEnd();
  return text.slice(text.lastIndexOf('\n\n') + 1);
}

/** The intent ids in a commit message's trailer block (its last paragraph), as git reads them. */
export function trailerIds(message: string): string[] {
  return [...trailerBlock(message).matchAll(TRAILER_LINES)].map((m) => m[1]!);
}

/** Every intent a commit message records, with what its effect line adds (ids without one: id only). */
export function trailerEffects(message: string): RecordedEffect[] {
  const block = trailerBlock(message);
  const effects = new Map<string, RecordedEffect>();
  for (const id of [...block.matchAll(TRAILER_LINES)].map((m) => m[1]!)) if (!effects.has(id)) effects.set(id, { id });
  for (const match of block.matchAll(EFFECT_LINES)) {
    const effect = effects.get(match[1]!);
    // An effect line without its id line is not a record of this commit (the id line is the record).
    if (effect === undefined) continue;
    for (const field of match[2]!.trim().split(' ').filter(Boolean)) {
      const [key, value = ''] = field.split('=', 2) as [string, string?];
      if (key === 'content' && value !== '') effect.contentHash = value;
      else if (key === 'target' && value !== '') effect.target = safeDecode(value);
      else if (key === 'order' && Number.isFinite(Number(value)) && value !== '') effect.order = Number(value);
    }
  }
  return [...effects.values()];
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
