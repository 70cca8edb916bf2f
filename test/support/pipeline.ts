// Builds a real pipeline in-process from test-defined plugins, and feeds it envelopes directly
// (an in-memory source), for tests of the core's semantics.
import { rmSync } from 'node:fs';
import { createConductor, type Conductor } from '../../core/app.ts';
import { resolveConfig } from '../../core/config/validate.ts';
import { silentLogger } from '../../core/log.ts';
import type { Envelope, Outcome, PluginDefinition } from '../../core/index.ts';
import { tempDir } from './data-dir.ts';

export interface TestPipeline {
  conductor: Conductor;
  dataDir: string;
  /** Processes one intent; resolves with its outcome (undefined when deferred) and what the source saw. */
  feed(file: string, intent: unknown): Promise<{ outcome: Outcome | undefined; acked: Outcome[]; released: string[] }>;
  close(): Promise<void>;
}

export async function testPipeline(
  plugins: Record<string, Record<string, unknown>>,
  modules: Record<string, PluginDefinition<any>>,
  extra: Record<string, unknown> = {},
): Promise<TestPipeline> {
  const dataDir = tempDir();
  const resolved = await resolveConfig({ dataDir, plugins, modules, ...extra }, { source: 'test', baseDir: dataDir });
  const conductor = await createConductor(resolved, { log: silentLogger(), mode: 'once' });
  await conductor.start();
  return {
    conductor,
    dataDir,
    async feed(file, intent) {
      const acked: Outcome[] = [];
      const released: string[] = [];
      const slot = await conductor.pipeline.acquire();
      const envelope: Envelope = {
        file,
        source: 'test',
        bytes: new TextEncoder().encode(typeof intent === 'string' ? intent : JSON.stringify(intent)),
        receivedAt: Date.now(),
        ack: async (outcome) => void acked.push(outcome),
        release: (reason) => void released.push(reason),
      };
      const outcome = await slot.process(envelope);
      return { outcome, acked, released };
    },
    async close() {
      await conductor.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
