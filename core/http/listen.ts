// Opening and closing a plugin's HTTP port, shared by every plugin that serves one (metrics,
// probes). Port 0 asks the system for a free port; the bound one is returned.
import type { Server } from 'node:http';
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
