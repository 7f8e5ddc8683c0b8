import type { Context } from 'hono';
import { clientIp, peerAddress } from './client-ip.ts';

// MAX_STREAMS_PER_CLIENT: concurrent streams (location and status) one client address may hold on this node. Over the
// limit: 429 `too_many_streams` with Retry-After, before any stream byte or broker work. 0 turns the limit off.
// A trusted proxy's own connections without X-Forwarded-For are not counted (there is no client behind them to key).

export interface StreamLimiter {
  admit(c: Context): (() => void) | Response;
  /** open streams of one address (tests, status) */
  count(ip: string): number;
}

export const RETRY_AFTER_SECONDS = 5;

export function createStreamLimiter(options: {
  max: number;
  trusted: ReadonlySet<string>;
  onRefused?: () => void;
}): StreamLimiter {
  const open = new Map<string, number>();
  return {
    admit(c) {
      if (options.max <= 0) return () => {};
      // A trusted peer that forwards no client (nginx's own probes, a load test on the host) is not one client.
      if (!c.req.header('x-forwarded-for') && options.trusted.has(peerAddress(c))) return () => {};
      const ip = clientIp(c, options.trusted);
      const n = open.get(ip) ?? 0;
      if (n >= options.max) {
        options.onRefused?.();
        return c.json(
          {
            error: 'too_many_streams',
            message: `this address already holds ${n} open streams (MAX_STREAMS_PER_CLIENT=${options.max}); close one and retry`,
          },
          429,
          { 'Retry-After': String(RETRY_AFTER_SECONDS) },
        );
      }
      open.set(ip, n + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (open.get(ip) ?? 1) - 1;
        if (left <= 0) open.delete(ip);
        else open.set(ip, left);
      };
    },
    count: (ip) => open.get(ip) ?? 0,
  };
}
