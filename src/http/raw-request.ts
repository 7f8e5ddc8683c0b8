// The request exactly as the client sent it: its target, before any URL parser resolves it. WHATWG URL parsing (what
// `new URL()` and @hono/node-server do) turns `\` into `/` and resolves `..`, `.`, `%2e%2e`: `/stream/..\metrics` or
// `/planets/%2e%2e/metrics` would reach a route other than the one a proxy routed by prefix. No route of Orrery has a
// dot segment or a backslash in its path, so such a target is refused as it is, never normalised into another route.
// And its Host lines: exactly one (Node's parser keeps the first of several).

/** `.` or `..` as a whole path segment, literal or percent-encoded, before the query. */
const DOT_SEGMENT = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)/i;

/** Why this raw target's path cannot be served as sent, or undefined when it can. */
export function rawPathProblem(target: string): string | undefined {
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  if (path.includes('\\') || /%5c/i.test(path)) return 'a backslash';
  if (DOT_SEGMENT.test(path)) return 'a "." or ".." segment';
  return undefined;
}

const badPath = (problem: string): Response =>
  Response.json({ error: 'invalid_path', message: `the request path holds ${problem}; send the path without it` }, { status: 400 });

const badHost = (n: number): Response =>
  Response.json(
    { error: 'bad_request', message: `an HTTP/1.1 request has exactly one Host header (RFC 9112 §3.2); this one has ${n}` },
    { status: 400 },
  );

/** How many Host lines a raw header list ([name, value, name, value, …]) holds. */
function hostLines(rawHeaders: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.length === 4 && rawHeaders[i]!.toLowerCase() === 'host') n++;
  return n;
}

/**
 * `fetch` with the raw request checked first: its target (env.incoming.url: Node's IncomingMessage, or the stream
 * front's) and, where Node parsed the head, its Host lines (Node keeps the first of several, and requireHostHeader is
 * off so that a missing one gets this JSON 400 rather than Node's bare one).
 */
export function guardRawRequest<E extends { incoming?: { url?: string; rawHeaders?: string[]; httpVersion?: string } }>(
  fetch: (request: Request, env: E) => Response | Promise<Response>,
): (request: Request, env: E) => Response | Promise<Response> {
  return (request, env) => {
    const problem = rawPathProblem(env.incoming?.url ?? '/');
    if (problem) return badPath(problem);
    const raw = env.incoming?.rawHeaders;
    if (raw) {
      const hosts = hostLines(raw);
      if (hosts > 1 || (hosts === 0 && env.incoming?.httpVersion === '1.1')) return badHost(hosts);
    }
    return fetch(request, env);
  };
}

/** What @hono/node-server answers with when it cannot even build the Request (e.g. a backslash): the same shape. */
export const requestErrorResponse = (err: unknown): Response => {
  if (!(err instanceof Error) || err.name !== 'RequestError') {
    return Response.json({ error: 'internal', message: 'internal error' }, { status: 500 });
  }
  return /backslash/i.test(err.message)
    ? badPath('a backslash')
    : Response.json({ error: 'bad_request', message: `malformed request: ${err.message}` }, { status: 400 });
};

