// Conditional GET for the page's files: serveStatic sends Last-Modified but never looks at If-Modified-Since, so a
// browser revalidating (the files are `no-cache` or `must-revalidate`) downloaded every file again.

/** 304 in place of `res` when the client's copy is as new as the file (RFC 9110 §13.1.3); else `res`. */
export function notModified(request: Request, res: Response): Response {
  const since = request.headers.get('if-modified-since');
  const modified = res.headers.get('last-modified');
  if (res.status !== 200 || !since || !modified || request.headers.has('if-none-match')) return res;
  if (!(request.method === 'GET' || request.method === 'HEAD')) return res;
  const sinceMs = Date.parse(since);
  const modifiedMs = Date.parse(modified);
  if (Number.isNaN(sinceMs) || Number.isNaN(modifiedMs) || modifiedMs > sinceMs) return res;
  void res.body?.cancel();
  const headers = new Headers(res.headers);
  for (const h of ['content-length', 'content-type', 'content-encoding']) headers.delete(h);
  return new Response(null, { status: 304, headers });
}
