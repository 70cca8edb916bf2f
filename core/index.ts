// The public API of Conductor: what plugins (built-in and external), examples and the benchmarks
// use. Built-in plugins import only this module, as external plugins do; the core's own modules
// and the tests import anything else from its module path. test/house/public-api.test.ts holds
// this module to its snapshot (test/house/public-api.snapshot.txt): `npm run api:update` after
// a reviewed change.
export { definePlugin, type PluginDeclaration } from './plugin/define.ts';
export { defaultsOf, type OptionsOf } from './plugin/options.ts';
export type { EventDoc, MetricDoc, PluginDocs, Stability } from './plugin/docs.ts';
export type {
  PluginDefinition,
  PluginInstance,
  PluginContext,
  PluginStatus,
  PluginKind,
  PluginCommand,
  PreflightCheck,
  Stage,
  JsonSchema,
  PlanRequest,
  PlanResult,
  PlanOutcome,
  PlannedFile,
  HistoryQuery,
  HistoryEntry,
} from './plugin/types.ts';
export { STAGES } from './plugin/types.ts';
export { defineConfig } from './config/types.ts';
export type { ConductorConfig, ResolvedConfig } from './config/types.ts';
export type { PluginHooks } from './bus/facade.ts';
export type {
  StageHooks,
  EventHooks,
  StageContext,
  Rejection,
  Claim,
  StageEvent,
  StageEndEvent,
  TapEndEvent,
  SecurityEvent,
  RetryEvent,
  DeferredEvent,
  RetentionEvent,
} from './bus/hooks.ts';
export { AUDIT_ANCHOR_ANNOTATION, AUDIT_ANCHOR_PATTERN, AUDIT_ANCHOR_TRAILER } from './bus/hooks.ts';
export type { Envelope, Intent, IntentType, IntentConstraints, Outcome, OutcomeStatus, Receipt } from './intent/types.ts';
export type { Host, HostStats, Readiness, RuntimeInfo, Slot } from './delivery/host.ts';
export { ConductorError, ERROR_CODES, isConductorError, rejectIntent } from './errors.ts';
export type { ErrorCode, ErrorKind, ConductorErrorOptions } from './errors.ts';
export { withRetry, backoffDelay, parseRetryAfter, sleep, untilAborted } from './delivery/retry.ts';
export type { RetryPolicy, RetryOptions } from './delivery/retry.ts';
export { crashPoint } from './delivery/crash-points.ts';
export type { CrashPointName } from './delivery/crash-points.ts';
export { CircuitBreaker } from './delivery/circuit-breaker.ts';
export type { CircuitState, CircuitBreakerOptions } from './delivery/circuit-breaker.ts';
export { DataDir } from './data-dir/data-dir.ts';
export type { FileIdentity, ReadResult, ErrorRecord } from './data-dir/data-dir.ts';
export { canonicalJson } from './intent/identity.ts';
export { renderPackage, applyIntentToPackage, instantiateBlueprint, packageNameOf, INTENT_ID_ANNOTATION } from './intent/krm.ts';
export type { PackageFiles, ApplyResult, InstantiateOptions } from './intent/krm.ts';
export type { Logger, LogLevel } from './log.ts';
export { redactConfig } from './config/redact.ts';
export { printable } from './data-dir/printable.ts';
export { CONDUCTOR_VERSION } from './version.ts';
export { RETRY_POLICY_SCHEMA } from './config/schema.ts';
export { compileSchema } from './schema/compile.ts';
export type { ErrorObject, ValidateFunction } from './schema/compile.ts';
export { HttpEndpoint, DEFAULT_HTTP_HOST, DEFAULT_HTTP_LIMITS, type HttpLimits } from './http/listen.ts';
