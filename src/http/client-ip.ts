import { isIP } from 'node:net';
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';

// Who is asking, for per-client limits. The socket's peer address, unless that peer is a trusted proxy (nginx on
// loopback by default): then X-Forwarded-For is read from the right, skipping trusted hops, and the first address a
// trusted proxy saw is the client. A client cannot pick its own key by sending X-Forwarded-For to the node directly.

const normalise = (ip: string): string => (ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip);

export function parseTrustedProxies(list: string): Set<string> {
  return new Set(
    list
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map(normalise),
  );
}

/** The socket's peer address (IPv4-mapped IPv6 as plain IPv4). */
export function peerAddress(c: Context): string {
  return normalise((c.env as Partial<HttpBindings> | undefined)?.incoming?.socket?.remoteAddress ?? 'unknown');
}

export function clientIp(c: Context, trusted: ReadonlySet<string>): string {
  const peer = peerAddress(c);
  if (!trusted.has(peer)) return peer;
  const xff = c.req.header('x-forwarded-for');
  if (!xff) return peer;
  const hops = xff.split(',').map((s) => normalise(s.trim()));
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (isIP(hop) === 0) return peer; // a garbled header proves nothing
    if (!trusted.has(hop)) return hop;
  }
  return hops[0] ?? peer;
}
