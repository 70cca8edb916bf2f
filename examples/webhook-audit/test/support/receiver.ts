// A real webhook receiver on 127.0.0.1 for the plugin's tests: it records every request and
// answers as the test scripts it — a status, a status with headers, or holding the answer
// until the test lets it go. Waiting is on arrivals, never on time.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** The body as JSON (undefined when it is not). */
  json: { type?: string; source?: string; outcome?: Record<string, unknown> } | undefined;
}

/** How to answer one request: a status (with headers), or `hold` to answer only when released. */
export type Answer = { status: number; headers?: Record<string, string> } | 'hold';

export interface Receiver {
  url: string;
  readonly received: Received[];
  /** Scripts the answers: called with each request and its index (default: 204). */
  answer(script: (request: Received, index: number) => Answer): void;
  /** Resolves once `count` requests have arrived in all. */
  arrivals(count: number, timeoutMs?: number): Promise<Received[]>;
  /** Answers every held request with `status`. */
  release(status?: number): void;
  close(): Promise<void>;
}

export async function startReceiver(path = '/conductor/outcomes'): Promise<Receiver> {
  const received: Received[] = [];
  const held: ServerResponse[] = [];
  const waiters = new Set<() => void>();
  let script: (request: Received, index: number) => Answer = () => ({ status: 204 });

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const entry: Received = { method: request.method ?? '', path: request.url ?? '', headers: request.headers, body, json: parse(body) };
      const answer = script(entry, received.length);
      received.push(entry);
      for (const wake of waiters) wake();
      if (answer === 'hold') held.push(response);
      else response.writeHead(answer.status, answer.headers).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${path}`,
    received,
    answer(next) {
      script = next;
    },
    arrivals(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (received.length < count) return;
          clearTimeout(deadline);
          waiters.delete(check);
          resolve(received.slice());
        };
        // The deadline fails a broken test; a passing one resolves on the arrival itself.
        const deadline = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${count} request(s) expected within ${timeoutMs} ms, ${received.length} arrived`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    release(status = 204) {
      for (const response of held.splice(0)) response.writeHead(status).end();
    },
    async close() {
      for (const response of held.splice(0)) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function parse(body: string): Received['json'] {
  try {
    return JSON.parse(body) as Received['json'];
  } catch {
    return undefined;
  }
}
