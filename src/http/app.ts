import { serveStatic } from '@hono/node-server/serve-static';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { TrieRouter } from 'hono/router/trie-router';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { InvalidInputError, quote } from './observer.ts';
import { type CorsPolicy, withCors } from './cors.ts';
import { notModified } from './conditional.ts';
import { HttpError } from './errors.ts';
import { type RequestLogDeps, withRequestLog } from './request-log.ts';
import { mountDocs } from './docs.ts';
import { mountHealth } from './health.ts';
import { mountLocations } from './locations.ts';
import type { Metrics } from '../metrics.ts';
import { mountMetrics } from './metrics.ts';
import { mountStatus, type StatusDeps } from './status.ts';
import { mountOpenApiDocument } from './openapi.ts';
import { mountEvents } from './events.ts';
import { mountPlanets } from './planets.ts';
import { mountPlaces } from './places.ts';
import { withPageHeaders } from './page-headers.ts';
import { mountTonight } from './tonight.ts';
import { mountStream, type StreamDeps } from './stream.ts';

// createApp(deps): every route, the error handler and the 404; no listen().

export interface AppDeps {
  /** Whether the broker is connected (for /readyz); the embedded memory broker is always ready. */
  ready?: () => boolean;
  /** Where unexpected errors (the 500s) are reported; a pino logger fits. Default: stderr. */
  logger?: { error(obj: object, msg?: string): void };
  /** Directory served at `/` (the page); absent: no static files. */
  webRoot?: string;
  /** The live stream (hub, heartbeat); absent: no /stream routes (e.g. tests of the on-demand API alone). */
  stream?: StreamDeps;
  /** GET /metrics (Prometheus); absent: no route */
  metrics?: Metrics;
  /** GET /status and GET /status/stream; absent: no routes */
  status?: StatusDeps;
  /** Which other origins' pages may call the API (CORS); default: any. */
  cors?: CorsPolicy;
  /** One access-log line per request; absent: none (request ids and the duration histogram stay). */
  accessLog?: RequestLogDeps['log'];
}

const consoleLogger: NonNullable<AppDeps['logger']> = {
  error: (obj, msg) => console.error(msg ?? 'error', obj),
};

const errorJson = (c: Context, status: ContentfulStatusCode, error: string, message: string): Response =>
  c.json({ error, message }, status);

const CODE_BY_STATUS: Record<number, string> = {
  400: 'invalid_body',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

export function createApp(deps: AppDeps = {}): OpenAPIHono {
  const app = new OpenAPIHono();
  const logger = deps.logger ?? consoleLogger;

  mountHealth(app, deps.ready);
  mountPlanets(app);
  mountLocations(app);
  mountEvents(app);
  mountTonight(app);
  mountPlaces(app);
  // The stream routes mount here (before the method table below, so they get 405s and OPTIONS too).
  if (deps.stream) mountStream(app, deps.stream);
  if (deps.status) mountStatus(app, deps.status);
  if (deps.metrics) mountMetrics(app, deps.metrics);
  if (deps.webRoot) mountDocs(app, deps.webRoot);
  mountOpenApiDocument(app, {
    title: 'Orrery',
    version: '0.1.0',
    description: 'Where the Sun, the Moon and the planets stand in your sky: on demand, and live as Server-Sent Events.',
  });
  const allowOf = answerOtherMethods(app);

  // What no route takes: a 405 if the path has routes, else a file of the page, else a 404. Neither the 405s nor
  // the files are routes matching every method or path: with one, every request matches two handlers, and Hono then
  // runs them through its async chain (and @hono/node-server its slower response path) instead of calling the one.
  const staticFiles = deps.webRoot ? serveStatic({ root: deps.webRoot }) : undefined;
  app.notFound(async (c) => {
    const allow = allowOf(c.req.path);
    if (allow !== undefined) {
      c.header('Allow', allow);
      return errorJson(c, 405, 'method_not_allowed', `${c.req.method} is not allowed on ${c.req.path}; allowed: ${allow}`);
    }
    const file = staticFiles && (await staticFiles(c, async () => {}));
    if (file) return notModified(c.req.raw, withPageHeaders(file));
    return errorJson(c, 404, 'not_found', `no route or file for ${c.req.method} ${quote(c.req.path)}`);
  });
  app.onError((err, c) => {
    if (err instanceof HttpError) return errorJson(c, err.status, err.code, err.message);
    if (err instanceof InvalidInputError) return errorJson(c, 400, 'invalid_parameter', err.message);
    if (err instanceof HTTPException && err.status < 500) {
      return errorJson(c, err.status, CODE_BY_STATUS[err.status] ?? 'bad_request', err.message || 'bad request');
    }
    logger.error({ err, method: c.req.method, path: c.req.path }, 'unhandled error');
    return errorJson(c, 500, 'internal', 'internal error');
  });
  // Around the whole app (app.request() included), outside the router: the request id, access log and duration,
  // then CORS (requests without an Origin pay nothing for it).
  app.fetch = withRequestLog(withCors(app.fetch, deps.cors ?? { any: true }), {
    log: deps.accessLog,
    observe: deps.metrics?.httpRequest,
  });
  return app;
}

/**
 * For every path registered so far: OPTIONS answers with Allow. Returns the Allow list of the first registered
 * path a request path matches (undefined if none), which the not-found handler turns into a 405.
 */
function answerOtherMethods(app: OpenAPIHono): (path: string) => string | undefined {
  const methods = new Map<string, Set<string>>();
  for (const r of app.routes) {
    if (r.method === 'ALL') continue;
    const set = methods.get(r.path) ?? new Set<string>();
    set.add(r.method);
    if (r.method === 'GET') set.add('HEAD');
    methods.set(r.path, set);
  }
  const paths = new TrieRouter<string>();
  for (const [path, set] of methods) {
    set.add('OPTIONS');
    const allow = [...set].join(', ');
    app.options(path, (c) => c.body(null, 204, { Allow: allow }));
    paths.add('ALL', path, allow);
  }
  return (path) => paths.match('ALL', path)[0][0]?.[0];
}
