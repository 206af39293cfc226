import { z } from 'zod';
import { ROUTES, type RouteDefinition } from '../../shared/routes.ts';
import { ErrorBody, ROUTE_SCHEMAS, type RouteSchemas } from './api-schemas.ts';

type JsonObject = Record<string, unknown>;

const ERROR_STATUSES: Record<string, string> = {
  '400': 'malformed or invalid input',
  '401': 'missing or wrong credentials',
  '404': 'no such resource',
  '415': 'a body of another media type than the route takes',
  '413': 'body or a message built from it too large',
  '422': 'valid input that matches nothing',
  '500': 'a fault of the service',
};

/**
 * The API as an OpenAPI 3.1 document, generated from the same zod schemas the handlers
 * validate with. Routes whose handler has no entry in `ROUTE_SCHEMAS` are listed without
 * schemas.
 */
export function buildOpenApi(routes: readonly RouteDefinition[] = ROUTES): JsonObject {
  const paths: Record<string, JsonObject> = {};
  for (const route of routes) {
    const schemas: RouteSchemas | undefined = (ROUTE_SCHEMAS as Record<string, RouteSchemas>)[
      route.handler
    ];
    paths[route.path] ??= {};
    paths[route.path] = {
      ...paths[route.path],
      [route.method.toLowerCase()]: operationObject(route, schemas),
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'winfleet', version: '1', description: 'Run operations on Windows fleets' },
    // In AWS the routes use IAM authorization (SigV4); the local gateway takes a bearer token.
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { Error: jsonSchema(ErrorBody, 'output') },
    },
    paths,
  };
}

function operationObject(route: RouteDefinition, schemas: RouteSchemas | undefined): JsonObject {
  const operation: JsonObject = {
    operationId: route.handler,
    summary: schemas?.summary ?? route.handler,
    responses: responses(schemas),
  };
  if (schemas?.description) operation.description = schemas.description;
  const parameters = [
    ...parametersOf(schemas?.path, 'path'),
    ...parametersOf(schemas?.query, 'query'),
  ];
  if (parameters.length > 0) operation.parameters = parameters;
  if (schemas?.body) {
    operation.requestBody = {
      required: true,
      content: {
        [schemas.bodyMediaType ?? 'application/json']: {
          schema: jsonSchema(schemas.body, 'input'),
        },
      },
    };
  }
  return operation;
}

function responses(schemas: RouteSchemas | undefined): JsonObject {
  const out: JsonObject = {};
  if (schemas) {
    out[String(schemas.response.status)] = {
      description: 'success',
      content: { 'application/json': { schema: jsonSchema(schemas.response.schema, 'output') } },
    };
  }
  for (const [status, description] of Object.entries(ERROR_STATUSES)) {
    out[status] = {
      description,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  return out;
}

function parametersOf(schema: z.ZodType | undefined, where: 'path' | 'query'): JsonObject[] {
  if (!(schema instanceof z.ZodObject)) return [];
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, field]) => ({
    name,
    in: where,
    required: where === 'path' || !field.safeParse(undefined).success,
    schema: jsonSchema(field, 'input'),
  }));
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' });
  return rest;
}
