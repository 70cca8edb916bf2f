// The audit trail: one JSON line in pino's format with `audit: true` for every terminal outcome
// and every security event, in a file of its own. The lines of one turn of the event loop are
// written together, synchronously (line-groups.ts), and an outcome is handed back only once its
// line is written, so a killed process loses no line of an intent it acknowledged. The lines form
// a hash chain (chain.ts) that `conductor audit verify` checks; the chain continues across
// restarts from the last line.
// With `hmacKeyFile` the chain is keyed (an HMAC under a key kept off the data volume), and the
// chain's head is offered to the sinks as the anchor of each effect (core `anchor` hook), so
// that verify can compare the log with copies beyond the reach of the data volume.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import pino from 'pino';
import { ConductorError, definePlugin, redactConfig, type Outcome, type PluginHooks } from '../../core/index.ts';
import { CheckpointWriter, formatAnchor, linkRecord, resumeChain, type ChainHead } from './chain.ts';
import { auditLogPath, chainName, readAuditKey } from './paths.ts';
import { LineGroups } from './line-groups.ts';
import { auditCommand } from './verify-command.ts';
import { DOCS, OPTIONS_SCHEMA } from './metadata.ts';

/** pino's number for `info`: the records read like any other pino line. */
const INFO_LEVEL = 30;

type Destination = pino.DestinationStream & { flushSync(): void; end(): void };

export default definePlugin({
  name: 'audit-log',
  kind: 'audit',
  description: 'Writes every terminal outcome and security event as a hash-chained JSON line with audit: true.',
  optionsSchema: OPTIONS_SCHEMA,
  docs: DOCS,
  commands: { audit: auditCommand },
  create(context, options) {
    const path = auditLogPath(context.config, options.path);
    const chain = chainName(path);
    let key: Buffer | undefined;
    let destination: Destination | undefined;
    let head: ChainHead | undefined;
    let checkpoint: CheckpointWriter | undefined;

    const groups = new LineGroups({
      write: (text) => {
        if (destination === undefined || checkpoint === undefined || head === undefined) {
          throw new ConductorError('CND_ERR_SHUTDOWN', 'the audit log is closed', { plugin: context.id });
        }
        destination.write(text);
        // The lines are written: a checkpoint that could not follow them is reported, not a reason
        // to take the chain back (verify accepts a checkpoint that is behind the log).
        try {
          checkpoint.write(head);
        } catch (error) {
          context.log.error({ err: error }, 'could not update the audit checkpoint');
        }
      },
      onFailure: (error, from) => {
        head = from;
        context.log.error({ err: error }, 'could not write to the audit log');
      },
    });

    // The line is built here rather than by a pino logger because its hash must cover exactly
    // the fields written; pino's synchronous destination still does the writing.
    const record: RecordLine = (event, fields) => {
      if (destination === undefined || head === undefined || checkpoint === undefined) return undefined;
      const linked = linkRecord(
        head,
        { level: INFO_LEVEL, time: new Date().toISOString(), audit: true, event, ...redactConfig(fields) },
        key,
      );
      const written = groups.add(linked.line, head);
      head = linked.head;
      return written;
    };

    return {
      start() {
        if (options.hmacKeyFile !== undefined) {
          try {
            key = readAuditKey(options.hmacKeyFile, 'hmacKeyFile');
          } catch (error) {
            throw new ConductorError('CND_ERR_PLUGIN_START', (error as Error).message, { plugin: context.id, cause: error });
          }
        }
        mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
        // Created owner-only: the trail names files and intents (pino would create it 0644).
        closeSync(openSync(path, 'a', 0o600));
        const resumed = resumeChain(path);
        if (resumed.warning !== undefined) context.log.warn({ seq: resumed.head.seq }, resumed.warning);
        head = resumed.head;
        destination = pino.destination({ dest: path, sync: true, mkdir: true }) as Destination;
        // The cut line stays a line of its own (verify names it), not the start of the next record.
        if (resumed.cut) destination.write('\n');
        checkpoint = new CheckpointWriter(path);
        checkpoint.write(head);
      },
      stop() {
        groups.flush();
        destination?.flushSync();
        destination?.end();
        destination = undefined;
        checkpoint?.close();
        checkpoint = undefined;
      },
      apply(hooks) {
        // Where the chain stands when a sink makes an effect: the sink records it with the effect.
        // Lines not yet written go out first: an anchor never names a record the log lacks.
        const anchor = () => {
          groups.flush();
          return head === undefined ? undefined : formatAnchor(chain, head);
        };
        tapTrail(hooks, context.id, record, anchor);
      },
    };
  },
});

type RecordLine = (event: string, fields: Record<string, unknown>) => Promise<void> | undefined;

/** What the trail records: every outcome (waiting for its line), security and retention events. */
function tapTrail(hooks: PluginHooks<'audit'>, id: string, record: RecordLine, anchor: () => string | undefined): void {
  hooks.events.anchor.tap(id, anchor);
  hooks.audit.tapPromise(id, async (outcome: Outcome) => {
    await record('outcome', {
      intentId: outcome.intentId,
      file: outcome.file,
      outcome: outcome.status,
      stage: outcome.stage,
      message: outcome.message,
      attempts: outcome.attempts,
      ...(outcome.code === undefined ? {} : { code: outcome.code }),
      ...(outcome.plugin === undefined ? {} : { plugin: outcome.plugin }),
      ...(outcome.receipt === undefined ? {} : { receipt: outcome.receipt }),
      ...(outcome.traceId === undefined ? {} : { traceId: outcome.traceId }),
    });
  });
  hooks.events.security.tap(id, (event) => {
    record('security', { type: event.type, intentId: event.intentId, file: event.file, stage: event.stage, message: event.message });
  });
  hooks.events.retention.tap(id, (event) => {
    record('retention', { area: event.area, removed: event.removed, olderThan: event.olderThan, plugin: event.plugin });
  });
}
