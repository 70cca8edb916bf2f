// Small HTTP helpers for probing the plugins' ports on 127.0.0.1.
import { createServer } from 'node:net';

/** A port that was free a moment ago (the system picks it; the test then binds it itself). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface Answer {
  status: number;
  contentType: string;
  text: string;
}

export async function get(url: string): Promise<Answer> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text: await response.text() };
}

export async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const answer = await get(url);
  return { status: answer.status, body: JSON.parse(answer.text) as Record<string, unknown> };
}
