// A TCP port on 127.0.0.1 that was free a moment ago: the system picks it, the caller then binds
// it (a server in another process, a plugin's option). Tests and benchmarks share this one.
import { createServer, type AddressInfo } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
