// The standard OpenTelemetry environment variables, read the way the SDK reads them (its own
// env helpers from @opentelemetry/core and the resource detectors), with one rule on top: an
// option set explicitly in the plugin's config wins over the environment.
//   OTEL_SDK_DISABLED                      true → no tracing at all
//   OTEL_EXPORTER_OTLP_TRACES_ENDPOINT     used as is
//   OTEL_EXPORTER_OTLP_ENDPOINT            the base URL: `v1/traces` is appended (OTLP spec)
//   OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES   resource attributes
//   OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG  the sampler
import { getBooleanFromEnv, getNumberFromEnv, getStringFromEnv } from '@opentelemetry/core';
import { detectResources, resourceAttributesEnvDetector, serviceNameEnvDetector } from '@opentelemetry/resources';
import { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler, type Sampler } from '@opentelemetry/sdk-trace';

/** Where traces go when neither the config nor the environment says (the bundle's collector). */
export const DEFAULT_ENDPOINT = 'http://otel-collector:4318';

/**
 * The traces URL for a collector base URL given in the config: `http://collector:4318` gets the
 * signal path `/v1/traces` (as OTEL_EXPORTER_OTLP_ENDPOINT does); a URL that already ends in it
 * is kept.
 */
export function tracesUrlOf(endpoint: string): string {
  const url = new URL(endpoint);
  if (!url.pathname.endsWith('/v1/traces')) url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/traces`;
  return url.toString();
}

export function sdkDisabled(): boolean {
  return getBooleanFromEnv('OTEL_SDK_DISABLED');
}

/** The traces URL and where it came from (for the start-up log line). */
export function tracesEndpoint(explicit: string | undefined): { url: string; from: string } {
  if (explicit !== undefined) return { url: tracesUrlOf(explicit), from: 'config' };
  const specific = getStringFromEnv('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  // The signal-specific variable is the full URL: no path is added to it.
  if (specific !== undefined) return { url: new URL(specific).toString(), from: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' };
  const generic = getStringFromEnv('OTEL_EXPORTER_OTLP_ENDPOINT');
  if (generic !== undefined)
    return { url: new URL(`${generic.endsWith('/') ? generic : `${generic}/`}v1/traces`).toString(), from: 'OTEL_EXPORTER_OTLP_ENDPOINT' };
  return { url: tracesUrlOf(DEFAULT_ENDPOINT), from: 'default' };
}

/**
 * Resource attributes: the built-in ones, then OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME
 * (the SDK's detectors parse them), then the config's serviceName and resourceAttributes.
 */
export function resourceAttributes(
  builtIn: Record<string, string>,
  explicit: { serviceName?: string | undefined; resourceAttributes?: Record<string, string> | undefined },
): Record<string, string> {
  const fromEnv = detectResources({ detectors: [resourceAttributesEnvDetector, serviceNameEnvDetector] }).attributes;
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(fromEnv)) if (value !== undefined) env[key] = String(value);
  return {
    ...builtIn,
    ...env,
    ...explicit.resourceAttributes,
    ...(explicit.serviceName === undefined ? {} : { 'service.name': explicit.serviceName }),
  };
}

/**
 * The sampler: the config's sampleRatio (parent-based, by trace id ratio) if set, else
 * OTEL_TRACES_SAMPLER(_ARG) as the SDK defines them, else parent-based always-on (the SDK's
 * default). Samplers this process cannot build (jaeger_remote, xray) are named in `unsupported`.
 */
export function sampler(explicitRatio: number | undefined): { sampler: Sampler; description: string; unsupported?: string } {
  if (explicitRatio !== undefined) {
    return {
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(explicitRatio) }),
      description: `parentbased_traceidratio ${explicitRatio}`,
    };
  }
  const name = (getStringFromEnv('OTEL_TRACES_SAMPLER') ?? 'parentbased_always_on').toLowerCase();
  const arg = getNumberFromEnv('OTEL_TRACES_SAMPLER_ARG');
  const ratio = arg === undefined || arg < 0 || arg > 1 ? 1 : arg;
  switch (name) {
    case 'always_on':
      return { sampler: new AlwaysOnSampler(), description: name };
    case 'always_off':
      return { sampler: new AlwaysOffSampler(), description: name };
    case 'traceidratio':
      return { sampler: new TraceIdRatioBasedSampler(ratio), description: `${name} ${ratio}` };
    case 'parentbased_always_off':
      return { sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }), description: name };
    case 'parentbased_traceidratio':
      return { sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }), description: `${name} ${ratio}` };
    case 'parentbased_always_on':
      return { sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }), description: name };
    default:
      return { sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }), description: 'parentbased_always_on', unsupported: name };
  }
}
