// Free TCP ports on the loopback interface (the tests' helper), and a small GET that never reuses
// connections.
import { request } from 'node:http';

export { freePort } from '../../test/support/ports.ts';

/** The status code of GET url, or 0 when nothing answers. */
export function statusOf(url: string, timeoutMs = 1_000): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => {
      req.destroy();
      resolve(0);
    });
    req.end();
  });
}
