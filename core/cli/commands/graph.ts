// `conductor graph`: the pipeline as the config builds it — each stage with its plugins in the
// order their taps run, the services beside it, and the order plugins start in.
import { EXIT } from '../exit-codes.ts';
import { parseCommand } from '../options.ts';
import { loadResolved } from '../setup.ts';
import { createConductor } from '../../app.ts';
import { silentLogger } from '../../log.ts';
import { startOrder } from '../../plugin/lifecycle.ts';
import type { PluginKind } from '../../plugin/types.ts';

export const GRAPH_HELP = `conductor graph [--config FILE] [--json]

Prints the stages (source → validate → sanitize → rate-limit → submit → audit), the plugins in
each in the order they run, the coordination and service plugins, which of \`conductor plan\` and
\`conductor history\` each sink answers, and the start order. Builds the pipeline without starting it.`;

export async function graphCommand(argv: string[]): Promise<number> {
  const { common, values } = parseCommand(argv, { json: { type: 'boolean' } });
  if (common.help) {
    console.log(GRAPH_HELP);
    return EXIT.ok;
  }
  const resolved = await loadResolved(common);
  const conductor = await createConductor(resolved, { log: silentLogger(), mode: 'check' });
  conductor.ledger.close();
  const byKind = (kind: PluginKind) =>
    conductor.plugins
      .filter((p) => (typeof p.definition.kind === 'string' ? [p.definition.kind] : p.definition.kind).includes(kind))
      .map((p) => p.id);
  const tapsOf = (hook: { taps: { name: string }[] }) => hook.taps.map((t) => t.name);
  const graph = {
    config: resolved.config.source,
    stages: {
      source: byKind('source'),
      validate: tapsOf(conductor.stages.validate),
      sanitize: tapsOf(conductor.stages.sanitize),
      'rate-limit': tapsOf(conductor.stages.rateLimit),
      submit: tapsOf(conductor.stages.submit),
      audit: tapsOf(conductor.stages.audit),
    },
    claim: tapsOf(conductor.stages.claim),
    services: byKind('service'),
    /** What each sink offers besides submit: `plan` (conductor plan) and `history` (conductor history). */
    sinks: Object.fromEntries(
      conductor.plugins
        .filter((p) => byKind('submit').includes(p.id))
        .map((p) => [p.id, (['plan', 'history'] as const).filter((member) => typeof p.instance[member] === 'function')]),
    ),
    startOrder: startOrder([...conductor.plugins]).map((p) => p.id),
  };
  if (values['json'] === true) {
    console.log(JSON.stringify(graph, null, 2));
    return EXIT.ok;
  }
  const show = (list: string[], joiner: string) => (list.length === 0 ? '(empty)' : list.join(joiner));
  console.log(`pipeline of ${graph.config}\n`);
  for (const [stage, plugins] of Object.entries(graph.stages)) {
    const joiner = stage === 'audit' ? ' + ' : ' → ';
    console.log(`  ${stage.padEnd(10)} ${show(plugins, joiner)}`);
  }
  console.log(`\n  ${'claim'.padEnd(10)} ${show(graph.claim, ' → ')}`);
  console.log(`  ${'services'.padEnd(10)} ${show(graph.services, ', ')}`);
  for (const [sink, offers] of Object.entries(graph.sinks)) {
    const what =
      offers.length === 0 ? 'neither `conductor plan` nor `conductor history`' : offers.map((o) => `\`conductor ${o}\``).join(' and ');
    console.log(`  ${'sink'.padEnd(10)} ${sink} answers ${what}`);
  }
  console.log(`\n  start order: ${graph.startOrder.join(', ')} (stop: the reverse)`);
  return EXIT.ok;
}
