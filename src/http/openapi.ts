import { createRoute, type OpenAPIHono, type RouteConfig } from '@hono/zod-openapi';
import type { Handler, MiddlewareHandler } from 'hono';
import { PER_DEPLOY, cachedJson, etagOf } from './cache.ts';
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

/** A JSON response; `caching` (its Cache-Control rule) is documented with an ETag header. */
export const json = <S>(schema: S, description: string, caching?: string) => ({
  description: caching ? `${description}. ${caching}` : description,
  content: { 'application/json': { schema } },
  ...(caching && {
    headers: {
      ETag: { description: 'strong validator: send it back in If-None-Match for a 304', schema: { type: 'string' as const } },
      'Cache-Control': { description: 'how long the answer may be reused', schema: { type: 'string' as const } },
    },
  }),
});

/** GET /openapi.json: generated on first request (after every module has registered), then served from memory. */
export function mountOpenApiDocument(app: OpenAPIHono, info: { title: string; version: string; description: string }): void {
  let document: { body: string; etag: string } | undefined;
  app.get('/openapi.json', (c) => {
    if (!document) {
      const body = JSON.stringify(app.getOpenAPIDocument({ openapi: '3.0.3', info }));
      document = { body, etag: etagOf(body) };
    }
    return cachedJson(c, document.body, PER_DEPLOY, document.etag);
  });
}
