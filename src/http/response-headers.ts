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
