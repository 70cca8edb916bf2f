// Small HTTP helpers for probing the plugins' ports on 127.0.0.1.

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
