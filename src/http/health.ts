import type { OpenAPIHono } from '@hono/zod-openapi';
import { addRoute, json } from './openapi.ts';
import { HealthResponse, ReadyResponse } from './schemas.ts';

// Liveness and readiness probes. They take no query rules on purpose: probes from load balancers
// sometimes add cache-busting parameters, and refusing them would take a healthy node out of service.

const OK = JSON.stringify({ status: 'ok' });
const READY = JSON.stringify({ status: 'ready' });
const NOT_READY = JSON.stringify({ status: 'not_ready', reason: 'the broker is not connected' });
const JSON_HEADERS = { 'content-type': 'application/json' };

/** `ready` says whether this node can serve streams (its broker is connected); absent means always ready. */
export function mountHealth(app: OpenAPIHono, ready: (() => boolean) | undefined): void {
  addRoute(
    app,
    { method: 'get', path: '/healthz', summary: 'Liveness: the process answers', responses: { 200: json(HealthResponse, 'alive') } },
    (c) => c.body(OK, 200, JSON_HEADERS),
  );
  addRoute(
    app,
    {
      method: 'get',
      path: '/readyz',
      summary: 'Readiness: the node can serve live streams',
      responses: { 200: json(ReadyResponse, 'ready'), 503: json(ReadyResponse, 'not ready (broker disconnected)') },
    },
    (c) => (ready === undefined || ready() ? c.body(READY, 200, JSON_HEADERS) : c.body(NOT_READY, 503, JSON_HEADERS)),
  );
}
