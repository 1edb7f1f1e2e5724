/**
 * Request validation: one Ajv setup for bodies, params and headers that never coerces (a
 * JSON `"5"` is not the number 5, and the TypeBox types must stay true), and one for query
 * strings that does — a query string has no types, so `?limit=20` must read as the integer
 * its schema declares, as every generated client sends it.
 */
import AjvCompiler, { type RouteDefinition, type ValidatorFactory } from '@fastify/ajv-compiler';

const pool = AjvCompiler();
type Schemas = Parameters<typeof pool>[0];
type Options = Parameters<typeof pool>[1];
type Compile = (route: RouteDefinition) => unknown;

/** Fastify's `schemaController.compilersFactory.buildValidator`, split by HTTP part. */
export const coercingQueryStrings = ((externalSchemas: Schemas, options?: Options) => {
  const strict = pool(externalSchemas, options) as Compile;
  const custom = { ...(options?.customOptions as object | undefined), coerceTypes: 'array' };
  const coercing = pool(externalSchemas, { ...options, customOptions: custom } as Options) as Compile;
  return (route: RouteDefinition) => (route.httpPart === 'querystring' ? coercing(route) : strict(route));
}) as unknown as ValidatorFactory;
