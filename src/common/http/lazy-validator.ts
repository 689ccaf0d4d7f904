import type { FastifyInstance } from 'fastify';
import { Ajv, type ValidateFunction } from 'ajv';

/**
 * Compiles each route's JSON schema on its first request instead of at startup: with a few
 * hundred routes, eager compilation was a third of the cold start. Same Ajv settings as the
 * app's: no type coercion (OpenStack rejects "true" for a boolean), no defaults, no stripping.
 * Schemas are not checked against the JSON Schema meta-schema: compiling the meta-schema was
 * most of the first request's latency, and our schemas are code, exercised by the tests.
 */
export function useLazyValidators(app: FastifyInstance): void {
  const ajv = new Ajv({ coerceTypes: false, useDefaults: false, removeAdditional: false, allErrors: false, strict: false, validateSchema: false, meta: false });
  app.setValidatorCompiler(({ schema }) => {
    let compiled: ValidateFunction | null = null;
    const validate = (data: unknown): boolean => {
      compiled ??= ajv.compile(schema);
      const ok = compiled(data);
      validate.errors = ok ? null : compiled.errors;
      return ok;
    };
    validate.errors = null as ValidateFunction['errors'];
    return validate;
  });
}
