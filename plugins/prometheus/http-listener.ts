// Opening and closing the plugin's HTTP port. (health has its own copy: plugins never import
// each other.) Port 0 asks the system for a free port; the bound one is returned and logged.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConductorError } from '../../core/index.ts';

export function listen(server: Server, port: number, host: string, plugin: string): Promise<number> {
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
export function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
