// Types of the generated precompiled.js (scripts/precompile-schemas.ts).
import type { ValidateFunction } from 'ajv';

/** Schema key (core/schema/compile.ts `schemaKey`) → its ajv standalone validator. */
export declare const validators: Readonly<Record<string, ValidateFunction | undefined>>;
