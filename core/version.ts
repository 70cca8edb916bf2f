import { readFileSync } from 'node:fs';

/** This package's version, read once from package.json (the single source). */
export const CONDUCTOR_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
