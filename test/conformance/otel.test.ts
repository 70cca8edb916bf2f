import { after } from 'node:test';
import { runConformance } from '../../core/testkit/index.ts';
import plugin from '../../plugins/otel/index.ts';
import { startOtlpReceiver } from '../observability/support/otlp-receiver.ts';

// A local collector, so the flush on stop has somewhere to go.
const receiver = await startOtlpReceiver();
after(() => receiver.close());

runConformance(plugin, { options: { endpoint: receiver.endpoint, scheduledDelayMs: 50, exportTimeoutMs: 1_000 } });
