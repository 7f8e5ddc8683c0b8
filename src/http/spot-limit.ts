import type { Context } from 'hono';
import { clientIp, peerAddress } from './client-ip.ts';
import { RETRY_AFTER_SECONDS } from './stream-limit.ts';

// MAX_SPOTS_PER_CLIENT: distinct exact-spot cells one client address may watch at once on this node. A spot costs a
// computation every tick (a grid stream only a write), so one address cannot make a node compute for many places at
// once; any number of its streams may share the cells it holds. Over the limit: 429 `too_many_spots`, before any
// stream byte. 0 turns the limit off. Keyed like MAX_STREAMS_PER_CLIENT (trusted proxies' own connections not counted).

export interface SpotLimiter {
  /** A release function, or the refusal to send instead. */
  admit(c: Context, cellId: string): (() => void) | Response;
}

export function createSpotLimiter(options: { max: number; trusted: ReadonlySet<string>; onRefused?: () => void }): SpotLimiter {
  /** address → cell id → open streams */
  const held = new Map<string, Map<string, number>>();
  return {
    admit(c, cellId) {
      if (options.max <= 0) return () => {};
      if (!c.req.header('x-forwarded-for') && options.trusted.has(peerAddress(c))) return () => {};
      const ip = clientIp(c, options.trusted);
      let cells = held.get(ip);
      const n = cells?.get(cellId) ?? 0;
      if (n === 0 && cells !== undefined && cells.size >= options.max) {
        options.onRefused?.();
        return c.json(
          {
            error: 'too_many_spots',
            message: `this address already watches ${cells.size} distinct spots (MAX_SPOTS_PER_CLIENT=${options.max}); close one and retry`,
          },
          429,
          { 'Retry-After': String(RETRY_AFTER_SECONDS) },
        );
      }
      if (!cells) held.set(ip, (cells = new Map()));
      cells.set(cellId, n + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const mine = held.get(ip);
        if (!mine) return;
        const left = (mine.get(cellId) ?? 1) - 1;
        if (left > 0) mine.set(cellId, left);
        else {
          mine.delete(cellId);
          if (mine.size === 0) held.delete(ip);
        }
      };
    },
  };
}
