// The plugin passes Conductor's conformance suite, against a real webhook on 127.0.0.1.
import { after } from 'node:test';
import { runConformance } from '../../../core/testkit/index.ts';
import webhookAudit from '../index.ts';
import { startReceiver } from './support/receiver.ts';

const receiver = await startReceiver();
after(() => receiver.close());

runConformance(webhookAudit, { options: { url: receiver.url, flushTimeoutMs: 1_000 } });
