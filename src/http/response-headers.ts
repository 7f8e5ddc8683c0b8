// Headers a request's response must carry whichever way it is written: the wrappers around the app (CORS, the request
// id) add them here, and streams, which write their own response head (fastpath/socket-sink.ts), read them.

const extra = new WeakMap<Request, Readonly<Record<string, string>>>();

export function addResponseHeaders(request: Request, headers: Readonly<Record<string, string>>): void {
  const before = extra.get(request);
  extra.set(request, before ? { ...before, ...headers } : headers);
}

/** What the wrappers granted `request`'s response (undefined: nothing). */
export function responseHeadersOf(request: Request): Readonly<Record<string, string>> | undefined {
  return extra.get(request);
}

/** What @hono/node-server passes a request's fetch as its env: Node's own request and response. */
interface NodeBindings {
  incoming?: { headers?: Readonly<Record<string, string | string[] | undefined>> };
  outgoing?: { headersSent: boolean; setHeader(name: string, value: string): unknown };
}

/**
 * One request header, from Node's already parsed head where there is one: reading `request.headers` makes
 * @hono/node-server build a whole web Headers object for the request, which the wrappers around the app would pay
 * on every request.
 */
export function requestHeader(request: Request, env: unknown, name: string): string | null {
  // The stream front's requests (fastpath/) carry an `incoming` without parsed headers: theirs are the Request's.
  const headers = (env as NodeBindings | undefined)?.incoming?.headers;
  if (headers === undefined) return request.headers.get(name);
  const value = headers[name];
  return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Sets a header of a response not yet written: on Node's response where there is one (it merges into the head
 * @hono/node-server writes), else on the web Response (which on Node would turn its plain header record into Headers).
 */
export function setResponseHeader(res: Response, env: unknown, name: string, value: string): void {
  const outgoing = (env as NodeBindings | undefined)?.outgoing;
  if (outgoing !== undefined && !outgoing.headersSent) outgoing.setHeader(name, value);
  else res.headers.set(name, value);
}
