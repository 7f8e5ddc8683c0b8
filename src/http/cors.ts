import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { quote } from './observer.ts';
import { addResponseHeaders } from './response-headers.ts';

// Cross-origin access: pages on other sites may call the API and open EventSources on every stream.
// `*` (the default) lets any origin in; an allow-list (CORS_ORIGINS="https://a.example,https://b.example") lets in
// those origins and the service's own page, and refuses any other Origin with a 403 before a route runs.
// Streams write their own response head (fastpath/socket-sink.ts and hub/sink.ts), so they take the headers from response-headers.ts.

export type CorsPolicy = { any: true } | { any: false; origins: ReadonlySet<string> };

/** CORS_ORIGINS as validated by src/config: `*`, or comma-separated origins (scheme://host[:port]). */
export function parseCorsOrigins(value: string): CorsPolicy {
  if (value.trim() === '*') return { any: true };
  // As a browser sends it: lower-case scheme and host, no default port, no trailing slash.
  return { any: false, origins: new Set(value.split(',').map((o) => new URL(o.trim()).origin)) };
}

const ALLOW_METHODS = 'GET, HEAD, POST, OPTIONS';
/** Request headers a cross-origin caller may send: JSON bodies, resuming streams, revalidating, its own request id. */
const ALLOW_HEADERS = 'Content-Type, Last-Event-ID, If-None-Match, X-Request-Id';
/** Response headers a cross-origin script may read besides the safelisted ones. */
const EXPOSE_HEADERS = 'ETag, X-Request-Id, Retry-After';
/** How long a browser may reuse a preflight answer (seconds). */
const PREFLIGHT_MAX_AGE = '86400';

/** The page's own requests carry its origin too (a same-origin POST does): the host it asked for. */
function isSameOrigin(origin: string, host: string | null): boolean {
  if (host === null) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

type Fetch<E> = (request: Request, env: E) => Response | Promise<Response>;

/**
 * `fetch` with CORS around it. A request without an Origin (curl, servers, same-origin GETs) goes straight through;
 * one from a refused origin gets a 403 and a preflight its 204 before any route runs.
 */
export function withCors<E>(fetch: Fetch<E>, policy: CorsPolicy): Fetch<E> {
  return (request, env) => {
    const origin = request.headers.get('origin');
    if (origin === null) return fetch(request, env);
    const allowed = policy.any || policy.origins.has(origin) || isSameOrigin(origin, request.headers.get('host'));
    if (!allowed) {
      return Response.json(
        { error: 'origin_not_allowed', message: `origin ${quote(origin)} is not in this server's CORS_ORIGINS` },
        { status: 403, headers: { Vary: 'Origin' } },
      );
    }
    const headers: Record<string, string> = policy.any
      ? { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': EXPOSE_HEADERS }
      : { 'Access-Control-Allow-Origin': origin, 'Access-Control-Expose-Headers': EXPOSE_HEADERS, Vary: 'Origin' };
    if (request.method === 'OPTIONS' && request.headers.has('access-control-request-method')) {
      return new Response(null, {
        status: 204,
        headers: {
          ...headers,
          'Access-Control-Allow-Methods': ALLOW_METHODS,
          'Access-Control-Allow-Headers': ALLOW_HEADERS,
          'Access-Control-Max-Age': PREFLIGHT_MAX_AGE,
        },
      });
    }
    addResponseHeaders(request, headers);
    const withHeaders = (res: Response): Response => {
      if (res === RESPONSE_ALREADY_SENT) return res; // a stream: its head carried them
      for (const [k, v] of Object.entries(headers)) {
        if (k === 'Vary') res.headers.append(k, v);
        else res.headers.set(k, v);
      }
      return res;
    };
    const res = fetch(request, env);
    return res instanceof Promise ? res.then(withHeaders) : withHeaders(res);
  };
}
