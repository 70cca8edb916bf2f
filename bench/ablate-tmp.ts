import { benchConfig, buildConductor, scratch } from './lib/config.ts';
import { encodedIntents, type Item } from './lib/intents.ts';
import { NULL_SINK, nullSink } from './lib/sinks.ts';
import type { Envelope } from '../core/index.ts';
export async function measure(args: { drop: string[]; count: number }) {
  const dir = scratch('abl');
  const config = benchConfig({ dataDir: dir.dir, concurrency: 32, fsSource: false, sink: { [NULL_SINK]: {} }, modules: { [NULL_SINK]: nullSink } }) as any;
  for (const d of args.drop) delete config.plugins[d];
  const conductor = await buildConductor(config, 'once');
  await conductor.start();
  const feed = async (items: Item[]) => { let settled = 0; let done!: () => void; const p = new Promise<void>((r) => (done = r));
    for (const item of items) { const slot = await conductor.pipeline.acquire();
      const env: Envelope = { file: item.file, source: 'bench', bytes: item.bytes, receivedAt: Date.now(), ack: async () => undefined, release: () => undefined };
      slot.process(env).then(() => { if (++settled === items.length) done(); }); }
    await p; };
  await feed(encodedIntents(3000, 'warm'));
  const items = encodedIntents(args.count, 'm');
  const cpu = process.cpuUsage(); const t = performance.now();
  await feed(items);
  const el = performance.now() - t; const u = process.cpuUsage(cpu);
  await conductor.stop(); dir.remove();
  return { drop: args.drop.join('+') || 'none', rate: Math.round(args.count / el * 1000), cpuUs: Math.round((u.user + u.system) / args.count) };
}
