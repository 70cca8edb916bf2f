import { existsSync, readFileSync } from 'node:fs';

/**
 * This package's version, read once from package.json (the single source): one level up from
 * core/ in the sources, two from dist/core/ in the published package.
 */
const PACKAGE_JSON = [new URL('../package.json', import.meta.url), new URL('../../package.json', import.meta.url)].find((url) =>
  existsSync(url),
)!;
export const CONDUCTOR_VERSION: string = (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version: string }).version;
