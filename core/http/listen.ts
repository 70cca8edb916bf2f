// Opening and closing a plugin's HTTP port, shared by every plugin that serves one (metrics,
// probes). Port 0 asks the system for a free port; the bound one is returned.
//
// These ports must never starve the pipeline: every accepted connection costs a file
// descriptor, and a flood of idle connections once exhausted the process's limit so that the
// source failed with EMFILE on handoff/ and the probes went silent. So each port holds a
// bounded number of connections (a new one evicts the oldest idle one, or is closed when all
// are busy), and a connection that does not send its request promptly is closed.
import type { RequestListener, Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ConductorError } from '../errors.ts';

// Not `import … from 'node:http'`: an ES module import of it reads every export, including the
// lazy getters that load Node's bundled undici for WebSocket, which cost ~60 ms of every start
// (nodejs/node#59686); the module object itself leaves them unread.
const { createServer } = process.getBuiltinModule('node:http');

/** The default host of a plugin's port: only the pod itself. Overlays set the pod address (0.0.0.0). */
export const DEFAULT_HTTP_HOST = '127.0.0.1';

export interface HttpLimits {
  /** Connections held open at once; beyond it the oldest idle one is closed. */
  maxConnections: number;
  /** Time to receive a request's headers (and, for an idle connection, to begin one). */
  headersTimeoutMs: number;
  /** Time to receive a whole request. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open between requests. */
  keepAliveTimeoutMs: number;
}

/** Probes and scrapes are small and few: these bounds leave room for them and nothing more. */
export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  maxConnections: 32,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
};

/** A server with the bounds above: connections counted and evicted, timeouts short and checked often. */
export function createBoundedServer(handler: RequestListener, limits: HttpLimits = DEFAULT_HTTP_LIMITS): Server {
  // Node checks the header and request timeouts every connectionsCheckingInterval (30 s by default).
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: 500,
    },
    handler,
  );
  // An idle socket (no request in progress) is closed after this long, whatever Node's checks do.
  server.setTimeout(limits.headersTimeoutMs);
  const open = new Map<Socket, { busy: boolean }>();
  server.on('connection', (socket: Socket) => {
    const state = { busy: false };
    open.set(socket, state);
    socket.once('close', () => open.delete(socket));
    if (open.size <= limits.maxConnections) return;
    // Over the bound: make room by closing the oldest connection that is not serving a request
    // (a Map iterates in insertion order); when every one is busy, refuse the newcomer.
    for (const [other, otherState] of open) {
      if (other !== socket && !otherState.busy) {
        open.delete(other);
        other.destroy();
        return;
      }
    }
    open.delete(socket);
    socket.destroy();
  });
  server.on('request', (request, response) => {
    const state = open.get(request.socket);
    if (state === undefined) return;
    state.busy = true;
    response.once('close', () => (state.busy = false));
  });
  return server;
}

export function listenHttp(server: Server, port: number, host: string, plugin: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const failed = (error: Error) => {
      reject(new ConductorError('CND_ERR_PLUGIN_START', `cannot listen on ${host}:${port}: ${error.message}`, { plugin, cause: error }));
    };
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Closes the port and every open connection (keep-alive scrapers would hold it open). */
export function closeHttp(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * A plugin's HTTP port as one piece: opened on start, closed on stop, the bound port known in
 * between (undefined when closed — what the plugin's status reports). Constructing it does no I/O.
 */
export class HttpEndpoint {
  readonly #handler: RequestListener;
  readonly #port: number;
  readonly #host: string;
  readonly #plugin: string;
  #server: Server | undefined;
  port: number | undefined;

  readonly #limits: HttpLimits;

  constructor(handler: RequestListener, options: { port: number; host: string; plugin: string; limits?: Partial<HttpLimits> }) {
    this.#handler = handler;
    this.#limits = { ...DEFAULT_HTTP_LIMITS, ...options.limits };
    this.#port = options.port;
    this.#host = options.host;
    this.#plugin = options.plugin;
  }

  async open(): Promise<number> {
    const server = createBoundedServer(this.#handler, this.#limits);
    this.port = await listenHttp(server, this.#port, this.#host, this.#plugin);
    this.#server = server;
    return this.port;
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.port = undefined;
    if (server !== undefined) await closeHttp(server);
  }
}
