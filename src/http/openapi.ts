import { createRoute, type OpenAPIHono, type RouteConfig } from '@hono/zod-openapi';
import type { Handler, MiddlewareHandler } from 'hono';
import { ErrorSchema } from './schemas.ts';

// Routes are registered twice from one definition: into the OpenAPI registry (for /openapi.json) and
// into the router with a plain handler, which validates synchronously with the same schemas (validate.ts).

/** Registers `def` for the document and `handlers` (middleware first) for the method and path it names. */
export function addRoute(app: OpenAPIHono, def: RouteConfig, ...handlers: (Handler | MiddlewareHandler)[]): void {
  app.openAPIRegistry.registerPath(createRoute(def));
  const path = def.path.replace(/\{(\w+)\}/g, ':$1');
  app.on(def.method.toUpperCase(), path, ...(handlers as [Handler]));
}

/** The error responses a route can give, for the document. */
export function errorResponses(statuses: Record<number, string>): RouteConfig['responses'] {
  const out: RouteConfig['responses'] = {};
  for (const [status, description] of Object.entries(statuses)) {
    out[status] = { description, content: { 'application/json': { schema: ErrorSchema } } };
  }
  return out;
}

export const json = <S>(schema: S, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

/** GET /openapi.json: generated on first request (after every module has registered), then served from memory. */
export function mountOpenApiDocument(app: OpenAPIHono, info: { title: string; version: string; description: string }): void {
  let document: string | undefined;
  app.get('/openapi.json', (c) => {
    document ??= JSON.stringify(app.getOpenAPIDocument({ openapi: '3.0.3', info }));
    return c.body(document, 200, { 'content-type': 'application/json' });
  });
}
