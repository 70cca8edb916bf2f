// Checks each intent against the intent JSON Schema (tightened: DNS-1123 names) and the rules
// a schema cannot express: replicas within the intent's own min/max, and the namespace within
// both the intent's and the operator's allowed namespaces.
import { readFileSync } from 'node:fs';
import { compileSchema, definePlugin, type ErrorObject, type Intent, type Rejection } from '../../core/index.ts';
import { DOCS, OPTIONS_SCHEMA } from './metadata.ts';

export const INTENT_SCHEMA = JSON.parse(readFileSync(new URL('./intent.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;

export function describeSchemaError(error: ErrorObject): string {
  const path = error.instancePath.split('/').slice(1).join('.') || 'intent';
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties')
    return `${path === 'intent' ? '' : `${path}.`}${String(params['additionalProperty'])} is not a known field`;
  if (error.keyword === 'required') return `${path === 'intent' ? '' : `${path}.`}${String(params['missingProperty'])} is required`;
  if (error.keyword === 'pattern' && /target|namespace|allowed_namespaces|kpt_package_name/.test(path)) {
    return `${path} must be a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)`;
  }
  if (error.keyword === 'enum') return `${path} must be one of ${JSON.stringify(params['allowedValues'])}`;
  return `${path} ${error.message ?? error.keyword}`;
}

export function businessRules(intent: Intent, allowed: string[] | undefined): Rejection | undefined {
  const c = intent.constraints;
  if (c?.min_replicas !== undefined && intent.replicas < c.min_replicas) {
    return {
      message: `replicas ${intent.replicas} is below constraints.min_replicas ${c.min_replicas}`,
      code: 'CND_ERR_INTENT_INVALID',
      securityEvent: 'replica-constraints',
    };
  }
  if (c?.max_replicas !== undefined && intent.replicas > c.max_replicas) {
    return {
      message: `replicas ${intent.replicas} is above constraints.max_replicas ${c.max_replicas}`,
      code: 'CND_ERR_INTENT_INVALID',
      securityEvent: 'replica-constraints',
    };
  }
  if (c?.min_replicas !== undefined && c.max_replicas !== undefined && c.min_replicas > c.max_replicas) {
    return {
      message: 'constraints.min_replicas is above constraints.max_replicas',
      code: 'CND_ERR_INTENT_INVALID',
      securityEvent: 'replica-constraints',
    };
  }
  if (c?.allowed_namespaces !== undefined && !c.allowed_namespaces.includes(intent.namespace)) {
    return {
      message: `namespace ${intent.namespace} is not in constraints.allowed_namespaces`,
      code: 'CND_ERR_INTENT_REJECTED',
      securityEvent: 'namespace-not-allowed',
    };
  }
  if (allowed !== undefined && !allowed.includes(intent.namespace)) {
    return {
      message: `namespace ${intent.namespace} is not one this Conductor may change`,
      code: 'CND_ERR_INTENT_REJECTED',
      securityEvent: 'namespace-not-allowed',
    };
  }
  return undefined;
}

export default definePlugin({
  name: 'schema-validate',
  kind: 'validate',
  description: 'Validates intents against the intent JSON Schema and the replica and namespace rules.',
  optionsSchema: OPTIONS_SCHEMA,
  docs: DOCS,
  async create(context, options) {
    // Precompiled (core/schema): ajv is not loaded to check intents against the shipped schema.
    const validate = await compileSchema<Intent>(INTENT_SCHEMA);
    return {
      apply(hooks) {
        hooks.validate.tap(context.id, (intent) => {
          if (!validate(intent)) {
            const messages = (validate.errors ?? []).map(describeSchemaError);
            return { message: messages.join('; '), code: 'CND_ERR_INTENT_INVALID', securityEvent: 'schema' };
          }
          return businessRules(intent, options.allowedNamespaces);
        });
      },
    };
  },
});
