// `conductor history` for the git sink: the intents applied to one target, read from the
// repository's history alone (the commit trailers say which intents a commit applied; the
// message says from which file and to how many replicas), so it works when the ledger is lost.
import type { HistoryEntry, HistoryQuery } from '../../core/index.ts';
import { git, type GitIdentity } from './git.ts';
import { trailerEffects } from './trailers.ts';

/** `- scaling ns/web to 3 replicas (file.json: reason)`, a grouped commit's line per intent. */
const GROUP_LINE = /^- \S+ (\S+) to (\d+) replicas \((.*?)(?:: .*)?\)$/;
/** `scaling ns/web to 3 replicas`, the subject of a one-intent commit. */
const SUBJECT = /^\S+ (\S+) to (\d+) replicas$/;

export async function readHistory(
  dir: string,
  identity: GitIdentity,
  head: string | undefined,
  query: HistoryQuery,
): Promise<HistoryEntry[]> {
  if (head === undefined) return [];
  const key = `${query.namespace}/${query.target}`;
  // Oldest first; each record: commit id, committer time (s), then the raw message, NUL-terminated.
  const log = await git(dir, identity, ['log', '--reverse', '-z', '--format=%H%n%ct%n%B', head]);
  const entries: HistoryEntry[] = [];
  for (const record of log.split('\0')) {
    const [hash = '', seconds = '', ...rest] = record.replace(/^\n/, '').split('\n');
    if (!/^[0-9a-f]{40}$/.test(hash)) continue;
    const message = rest.join('\n');
    const effects = trailerEffects(message).filter((effect) => effect.target === key);
    if (effects.length === 0) continue;
    const described = describedIntents(message, key);
    effects.forEach((effect, i) => {
      const said = described[i];
      entries.push({
        time: new Date(Number(seconds) * 1000).toISOString(),
        intentId: effect.id,
        ...(said?.file === undefined ? {} : { file: said.file }),
        ...(effect.contentHash === undefined ? {} : { contentHash: effect.contentHash }),
        ...(said?.replicas === undefined ? {} : { replicas: said.replicas }),
        ...(effect.order === undefined ? {} : { order: effect.order }),
        receipt: { ref: hash },
      });
    });
  }
  return entries;
}

/** What the message says of the intents for `key`, in the order it lists them (the trailers' order). */
function describedIntents(message: string, key: string): { file?: string; replicas: number }[] {
  const lines = message.split('\n');
  const subject = SUBJECT.exec(lines[0] ?? '');
  if (subject !== null) {
    if (subject[1] !== key) return [];
    const file = lines.find((line) => line.startsWith('Intent file: '))?.slice('Intent file: '.length);
    return [{ replicas: Number(subject[2]), ...(file === undefined ? {} : { file }) }];
  }
  return lines.flatMap((line) => {
    const match = GROUP_LINE.exec(line);
    return match === null || match[1] !== key ? [] : [{ replicas: Number(match[2]), file: match[3]! }];
  });
}
