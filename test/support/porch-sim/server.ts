// The HTTP(S) front door: authentication, fault injection, authorization and dispatch, in the
// order the kube-apiserver applies them (authn → flow control (429) → authz → aggregator (503)
// → Porch), docs/porch.md §Transport and §Simulator endpoints items 12–13.

import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Authenticator, Authorizer } from './auth.ts';
import type { HandlerContext } from './context.ts';
import { dispatch } from './dispatch.ts';
import type { FaultInjector } from './faults.ts';
import { mediaType } from './http.ts';
import type { SimRequest, SimResponse } from './http.ts';
import { ApiError, gatewayTimeout, internalError, requestEntityTooLarge, unauthorized, unknownServerError } from './k8s-status.ts';
import { attributesOf, isWriteRequest, parseRoute } from './routes.ts';
import type { SimStore } from './store.ts';
import type { RequestRecord } from './types.ts';

export interface ServerParts {
  context: HandlerContext;
  store: SimStore;
  authenticator: Authenticator;
  authorizer: Authorizer;
  faults: FaultInjector;
  recordTraceparent: boolean;
  kubernetesVersion: string;
  maxBodyBytes: number;
  tls?: { key: string | Buffer; cert: string | Buffer };
}

export interface RunningServer {
  url: string;
  port: number;
  requests: RequestRecord[];
  close(): Promise<void>;
}

function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on('end', () => (tooLarge ? reject(requestEntityTooLarge(limit)) : resolve(Buffer.concat(chunks))));
    request.on('error', reject);
  });
}

function send(res: ServerResponse, response: SimResponse): void {
  if (res.destroyed || res.headersSent) return;
  const isText = typeof response.body === 'string';
  const payload = isText ? (response.body as string) : JSON.stringify(response.body);
  res.statusCode = response.status;
  res.setHeader('Content-Type', isText ? 'text/plain; charset=utf-8' : 'application/json');
  res.setHeader('Cache-Control', 'no-cache, private');
  for (const [name, value] of Object.entries(response.headers ?? {})) res.setHeader(name, value);
  res.setHeader('Content-Length', Buffer.byteLength(payload));
  res.end(payload);
}

function statusResponse(error: ApiError): SimResponse {
  return { status: error.status.code, body: error.status, headers: error.headers };
}

/** APF's rejection: text/plain, not a Status, with Retry-After (docs/porch.md §Rate limiting, §Sharp edges item 16). */
function tooManyRequests(retryAfterSeconds: number): SimResponse {
  return {
    status: 429,
    body: 'Too many requests, please try again later.\n',
    headers: {
      'Retry-After': String(retryAfterSeconds),
      'X-Content-Type-Options': 'nosniff',
      'X-Kubernetes-PF-FlowSchema-UID': 'porch-sim-flowschema',
      'X-Kubernetes-PF-PriorityLevel-UID': 'porch-sim-prioritylevel',
    },
  };
}

/** The aggregator answers with plain text when the Porch APIService is unavailable (docs/porch.md §Rate limiting). */
function serviceUnavailable(): SimResponse {
  return { status: 503, body: 'service unavailable\n', headers: { 'X-Content-Type-Options': 'nosniff' } };
}

export async function startServer(parts: ServerParts): Promise<RunningServer> {
  const requests: RequestRecord[] = [];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://porch-sim.invalid');
    let path = url.pathname;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      // keep the raw path; it will not route anyway
    }
    const record: RequestRecord = { sequence: requests.length + 1, method, path, query: url.search, status: 0 };
    const traceparent = req.headers['traceparent'];
    if (parts.recordTraceparent && typeof traceparent === 'string') record.traceparent = traceparent;
    requests.push(record);

    const reply = (response: SimResponse) => {
      record.status = response.status;
      send(res, response);
    };
    const drop = () => {
      record.status = 0;
      req.socket.destroy();
    };

    try {
      const rawBody = await readBody(req, parts.maxBodyBytes);
      const route = parseRoute(path);
      const auth = parts.authenticator.check(req.headers.authorization);
      if (auth === 'rejected' || (auth === 'anonymous' && route.kind !== 'public')) throw unauthorized();

      const decision = parts.faults.decide({ method, path, isWrite: isWriteRequest(method, route) });
      if (decision.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, decision.latencyMs));
      if (decision.before?.kind === 'drop') {
        record.fault = 'drop';
        parts.faults.count('drop');
        drop();
        return;
      }
      if (decision.before?.kind === 'rate-limit') {
        record.fault = 'rate-limit';
        parts.faults.count('rate-limit');
        reply(tooManyRequests(decision.before.retryAfterSeconds));
        return;
      }
      const attributes = attributesOf(method, route, url.searchParams);
      if (attributes !== undefined && !parts.authorizer.allowed(attributes)) throw parts.authorizer.forbiddenError(attributes);
      if (decision.before?.kind === 'server-error') {
        record.fault = 'server-error';
        parts.faults.count('server-error');
        reply(
          decision.before.status === 503
            ? serviceUnavailable()
            : statusResponse(internalError('porch-sim injected fault: error fetching from git: unexpected EOF')),
        );
        return;
      }

      const request: SimRequest = {
        method,
        path,
        query: url.searchParams,
        headers: req.headers,
        contentType: mediaType(req.headers['content-type']),
        rawBody,
      };
      const writeMark = parts.store.writeSequence();
      let response: SimResponse;
      try {
        response = await dispatch(parts.context, request, route, { kubernetesVersion: parts.kubernetesVersion });
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        response = statusResponse(error);
      }
      if (decision.after !== undefined && response.status < 300) {
        // The write is applied; only its answer is lost (docs/porch.md §Idempotency, §Sharp edges item 16).
        record.fault = 'apply-then-fail';
        parts.faults.count('apply-then-fail');
        parts.store.markResponseLost(writeMark);
        if (decision.after.mode === 'drop') drop();
        else reply({ status: 504, body: gatewayTimeout() });
        return;
      }
      reply(response);
    } catch (error) {
      if (error instanceof ApiError) reply(statusResponse(error));
      else reply(statusResponse(unknownServerError(`porch-sim internal failure: ${(error as Error).stack ?? String(error)}`)));
    }
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res);
  };
  const server: Server =
    parts.tls === undefined ? createHttpServer(listener) : createHttpsServer({ key: parts.tls.key, cert: parts.tls.cert }, listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const scheme = parts.tls === undefined ? 'http' : 'https';
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
  };
}
