// Opening and closing a plugin's HTTP port, shared by every plugin that serves one (metrics,
// probes). Port 0 asks the system for a free port; the bound one is returned.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConductorError } from '../errors.ts';

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

  constructor(handler: RequestListener, options: { port: number; host: string; plugin: string }) {
    this.#handler = handler;
    this.#port = options.port;
    this.#host = options.host;
    this.#plugin = options.plugin;
  }

  async open(): Promise<number> {
    const server = createServer(this.#handler);
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
