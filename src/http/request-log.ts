import { randomUUID } from 'node:crypto';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { addResponseHeaders, requestHeader, setResponseHeader } from './response-headers.ts';

// Around the whole app: every request gets an id (the caller's X-Request-Id when it is a sane token, else a new
// UUID), returned as X-Request-Id (streams too), one access-log line when it is answered, and its duration in the
// HTTP histogram. A stream is logged and timed when its response starts, not when it ends (hours later).

export interface RequestLogDeps {
  /** one line per request; absent (ACCESS_LOG=off): no lines, ids and durations still */
  log?: { info(obj: object, msg: string): void };
  /** where durations go (the /metrics histogram) */
  observe?: (method: string, route: string, status: number, seconds: number) => void;
}

const SANE_ID = /^[\w.:-]{1,64}$/;

/** Fixed routes, and the pattern of those with a parameter: the histogram's route label stays a short, closed list. */
const EXACT = new Set([
  '/', '/planets', '/locations', '/locations/nearest', '/geo_location', '/stream', '/healthz', '/readyz', '/metrics',
  '/openapi.json', '/docs', '/status', '/status/stream',
]);
const PATTERNS: readonly [RegExp, string][] = [
  [/^\/planets\/[^/]+$/, '/planets/:name'],
  [/^\/stream\/[^/]+$/, '/stream/:location'],
  [/^\/docs\/vendor\/[^/]+$/, '/docs/vendor/:file'],
];

export function routeOf(path: string): string {
  if (EXACT.has(path)) return path;
  for (const [re, route] of PATTERNS) if (re.test(path)) return route;
  return 'other';
}

/** The path of a request URL, without building a URL object. */
function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  if (start < 0) return '/';
  const q = url.indexOf('?', start);
  return q < 0 ? url.slice(start) : url.slice(start, q);
}

type Fetch<E> = (request: Request, env: E) => Response | Promise<Response>;

export function withRequestLog<E>(fetch: Fetch<E>, deps: RequestLogDeps): Fetch<E> {
  return (request, env) => {
    const started = performance.now();
    const given = requestHeader(request, env, 'x-request-id');
    const id = given !== null && SANE_ID.test(given) ? given : randomUUID();
    addResponseHeaders(request, { 'X-Request-Id': id });
    const done = (res: Response): Response => {
      const stream = res === RESPONSE_ALREADY_SENT;
      if (!stream) setResponseHeader(res, env, 'X-Request-Id', id);
      const status = stream ? 200 : res.status;
      const ms = performance.now() - started;
      const path = pathOf(request.url);
      deps.observe?.(request.method, routeOf(path), status, ms / 1000);
      deps.log?.info({ reqId: id, method: request.method, path, status, ms: Math.round(ms * 10) / 10, ...(stream && { stream: true }) }, 'request');
      return res;
    };
    let res: Response | Promise<Response>;
    try {
      res = fetch(request, env);
    } catch (err) {
      deps.log?.info({ reqId: id, method: request.method, path: pathOf(request.url), status: 500, err }, 'request');
      throw err;
    }
    return res instanceof Promise ? res.then(done) : done(res);
  };
}
