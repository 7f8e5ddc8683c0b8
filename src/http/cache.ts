import { createHash } from 'node:crypto';
import type { Context } from 'hono';

// HTTP caching of JSON answers. An answer for an explicit instant never changes: a strong ETag (a hash of the
// bytes, so it holds across nodes and restarts and changes with the code's output), immutable for a year. An answer
// for "now" is fresh for a second, the worker's tick. Documents that change only with a deploy revalidate.

/** An answer for a fixed instant (`time` given): the same bytes forever. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';
/** An answer for the current instant: the sky moves on within a tick. */
export const NOW = 'public, max-age=1';
/** A document that changes only when the service is deployed (the grid, the OpenAPI document). */
export const PER_DEPLOY = 'public, max-age=300';

/** Strong ETag of `body`: 128 bits of its SHA-256, quoted. */
export function etagOf(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
}

/**
 * Whether If-None-Match names `etag`. Weak comparison (RFC 9110 13.1.2), so an ETag a proxy weakened when it
 * compressed the answer (nginx's gzip turns "x" into W/"x") still matches.
 */
export function noneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  for (const raw of header.split(',')) {
    const tag = raw.trim();
    if ((tag.startsWith('W/') ? tag.slice(2) : tag) === etag) return true;
  }
  return false;
}

/**
 * A 200 JSON answer with ETag and Cache-Control, or a 304 when the client already holds those bytes. An answer for
 * "now" gets no ETag: its bytes change from one instant to the next, so no revalidation could ever match, and hashing
 * it would cost every request of the busiest route.
 */
export function cachedJson(c: Context, body: string, cacheControl: string, etag = cacheControl === NOW ? undefined : etagOf(body)): Response {
  if (etag === undefined) return c.body(body, 200, { 'Cache-Control': cacheControl, 'Content-Type': 'application/json' });
  const headers = { ETag: etag, 'Cache-Control': cacheControl };
  if (noneMatchHits(c.req.header('if-none-match'), etag)) return c.body(null, 304, headers);
  return c.body(body, 200, { ...headers, 'Content-Type': 'application/json' });
}
