// The page's Content-Security-Policy, on the HTML files the API serves itself (embedded mode, `npm start`): the same
// policy nginx adds in the stack (nginx/nginx.conf.template; test/unit/http/page-csp.test.ts holds the two texts
// equal), so the page and its tests run under it either way.
// style-src-attr: the SVG chart sets per-body colours as style attributes; everything else same-origin only.

export const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; font-src 'self'; " +
  "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/** `res` with the page's policy when it is an HTML page; other files go as they are. */
export function withPageHeaders(res: Response): Response {
  if (!res.headers.get('content-type')?.startsWith('text/html')) return res;
  const headers = new Headers(res.headers);
  headers.set('Content-Security-Policy', PAGE_CSP);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}
